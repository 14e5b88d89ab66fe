using System.Buffers;

namespace Mlops.Stream.Kafka.Topics;

/// <summary>Kafka's rules for topic names, so a bad model name fails here and not at the broker.</summary>
public static class TopicNames
{
    /// <summary>Kafka rejects longer topic names.</summary>
    public const int MaxLength = 249;

    private static readonly SearchValues<char> Legal =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>True when <paramref name="name"/> is a legal Kafka topic name.</summary>
    public static bool IsLegal(string? name) =>
        IsLegalPart(name) && name!.Length <= MaxLength && name is not "." and not "..";

    /// <summary>True when <paramref name="part"/> uses only characters legal in a topic name.</summary>
    public static bool IsLegalPart(string? part) =>
        !string.IsNullOrEmpty(part) && !part.AsSpan().ContainsAnyExcept(Legal);
}
