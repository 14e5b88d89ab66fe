using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift;

/// <summary>
/// A window's histogram over a reference profile's bins: how many of its finite values fell in each
/// bin, values outside the edges counted in the first or last bin as PSI counts them. A report draws
/// it over the profile's own counts. Compares by value (records holding it stay value-equal) and is
/// written as a plain JSON array. <c>default</c> means "not known" (a record written before windows
/// carried counts).
/// </summary>
[JsonConverter(typeof(BinCountsJsonConverter))]
public readonly struct BinCounts(ImmutableArray<long> counts) : IEquatable<BinCounts>
{
    /// <summary>Per bin, in the profile's order; empty when not known.</summary>
    public ImmutableArray<long> Counts => counts.IsDefault ? [] : counts;

    /// <summary>All the counts added up: the window's finite values.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            foreach (var c in Counts)
            {
                total += c;
            }

            return total;
        }
    }

    /// <summary>Counts the finite values of <paramref name="window"/> in <paramref name="reference"/>'s bins.</summary>
    public static BinCounts Of(FeatureProfile reference, ReadOnlySpan<double> window)
    {
        var counts = new long[reference.Counts.Length];
        foreach (var v in window)
        {
            if (double.IsFinite(v))
            {
                counts[reference.BinOf(v)]++;
            }
        }

        return new BinCounts(ImmutableCollectionsMarshal.AsImmutableArray(counts));
    }

    public bool Equals(BinCounts other) => Counts.AsSpan().SequenceEqual(other.Counts.AsSpan());

    public override bool Equals(object? obj) => obj is BinCounts other && Equals(other);

    public override int GetHashCode() => Counts.Length;

    public static bool operator ==(BinCounts left, BinCounts right) => left.Equals(right);

    public static bool operator !=(BinCounts left, BinCounts right) => !left.Equals(right);
}

/// <summary>Writes <see cref="BinCounts"/> as <c>[3,0,12]</c> and reads it back.</summary>
internal sealed class BinCountsJsonConverter : JsonConverter<BinCounts>
{
    public override BinCounts Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("bin counts must be an array of whole numbers");
        }

        var counts = ImmutableArray.CreateBuilder<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            counts.Add(reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var c) && c >= 0
                ? c
                : throw new JsonException("bin counts must be an array of whole numbers"));
        }

        return new BinCounts(counts.ToImmutable());
    }

    public override void Write(Utf8JsonWriter writer, BinCounts value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var c in value.Counts)
        {
            writer.WriteNumberValue(c);
        }

        writer.WriteEndArray();
    }
}
