using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// The JSON of a <see cref="DriftWindowReport"/>: snake_case names and snake_case enum values
/// (<c>population_stability_index</c>, <c>not_evaluated</c>) like the registry's files, and NaN
/// written as the string "NaN" as served events write it, because a feature with no finite value
/// has a NaN score and plain JSON has no NaN.
/// </summary>
public static class DriftWindowJson
{
    /// <summary>UTF-8 JSON of <paramref name="report"/>, the payload of one drift-topic record.</summary>
    public static byte[] Serialize(DriftWindowReport report) =>
        JsonSerializer.SerializeToUtf8Bytes(report, DriftWindowJsonContext.Default.DriftWindowReport);

    /// <summary>Reads a payload back (readers of the drift topic, tests); throws <see cref="JsonException"/> on bad input.</summary>
    public static DriftWindowReport Deserialize(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, DriftWindowJsonContext.Default.DriftWindowReport)
        ?? throw new JsonException("a drift window report cannot be null");
}

/// <summary>Writes an enum as its snake_case name and refuses numbers, so the wire format never leaks ordinals.</summary>
internal sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where TEnum : struct, Enum;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters =
    [
        typeof(SnakeCaseEnumConverter<DriftMethod>),
        typeof(SnakeCaseEnumConverter<DriftVerdict>),
        typeof(SnakeCaseEnumConverter<ReferenceKind>),
        typeof(SnakeCaseEnumConverter<WindowClose>),
        typeof(SnakeCaseEnumConverter<Performance.PerformanceAverage>),
        typeof(SnakeCaseEnumConverter<PredictionReference>),
    ])]
[JsonSerializable(typeof(DriftWindowReport))]
internal sealed partial class DriftWindowJsonContext : JsonSerializerContext;
