using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>
/// Served-event bodies written field for field as <c>ServingRecords.ServedEvent</c> writes them
/// (version as a string, UTC ISO timestamps, FP32 data flat, non-finite values as "NaN" strings),
/// and a two-feature reference whose values are drawn from its own profile.
/// </summary>
internal static class ServedEvents
{
    public const string Model = "fraud-demo";

    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Feature "amount" ~ N(50, 10) and "hour" ~ N(12, 3), 5,000 reference rows, seed 11.</summary>
    public static VersionReference Reference(int version = 1)
    {
        var random = new Random(11);
        var amount = Enumerable.Range(0, 5000).Select(_ => 50 + (10 * Normal(random))).ToArray();
        var hour = Enumerable.Range(0, 5000).Select(_ => 12 + (3 * Normal(random))).ToArray();
        FeatureReference[] features = [new(FeatureProfile.FromValues("amount", amount)), new(FeatureProfile.FromValues("hour", hour))];
        return new VersionReference(version, [.. features], ["amount", "hour"]);
    }

    /// <summary>A lookup knowing versions 1 and 2.</summary>
    public static VersionReference? Versions(int version) => version is 1 or 2 ? Reference(version) : null;

    /// <summary>One row drawn from each profile's histogram (a bin by its count, then uniformly inside it), shifted by <paramref name="sigmas"/> of the feature's standard deviation.</summary>
    public static double[] Draw(VersionReference reference, Random random, double sigmas = 0) =>
        [.. reference.Features.Select(f => DrawOne(f.Profile, random) + (sigmas * f.Profile.StdDev))];

    /// <summary>A served event with one [rows, 2] FP32 "features" tensor.</summary>
    public static byte[] Event(
        double[][] rows,
        DateTimeOffset at,
        int version = 1,
        string model = Model,
        string id = "r") =>
        Write(id, model, version.ToString(CultureInfo.InvariantCulture), at, w => Tensor(w, "features", "FP32", [rows.Length, rows.Length == 0 ? 2 : rows[0].Length], rows.SelectMany(r => r)));

    /// <summary>A served event with one row.</summary>
    public static byte[] Event(double[] row, DateTimeOffset at, int version = 1) => Event([row], at, version);

    /// <summary>
    /// A one-row served event of a binary classifier as the demo model answers: "probabilities"
    /// FP32 [1, 2] (1 - p, p) and "label" INT64 [1] (1 when p &gt;= 0.5).
    /// </summary>
    public static byte[] Classified(string id, double[] row, double positive, DateTimeOffset at, int version = 1) =>
        Write(id, Model, version.ToString(CultureInfo.InvariantCulture), at,
            w => Tensor(w, "features", "FP32", [1, row.Length], row),
            w =>
            {
                Tensor(w, "probabilities", "FP32", [1, 2], [1 - positive, positive]);
                Tensor(w, "label", "INT64", [1], [positive >= 0.5 ? 1 : 0]);
            });

    /// <summary>A served event whose inputs the caller writes (for bad shapes and other layouts).</summary>
    public static byte[] Write(string? id, string? model, string? version, DateTimeOffset? at, Action<Utf8JsonWriter>? inputs, Action<Utf8JsonWriter>? outputs = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (id is not null) w.WriteString("id", id);
            if (model is not null) w.WriteString("model", model);
            if (version is not null) w.WriteString("version", version);
            w.WriteString("source", "kafka");
            if (inputs is not null)
            {
                w.WriteStartArray("inputs");
                inputs(w);
                w.WriteEndArray();
            }

            w.WriteStartArray("outputs");
            (outputs ?? (o => Tensor(o, "probabilities", "FP32", [1, 2], [0.9, 0.1])))(w);
            w.WriteEndArray();
            if (at is { } t)
            {
                w.WriteString("request_timestamp", t.UtcDateTime);
                w.WriteString("served_timestamp", t.UtcDateTime);
            }

            w.WriteNumber("queue_ms", 0.5);
            w.WriteNumber("inference_ms", 0.2);
            w.WriteNumber("batch_size", 1);
            w.WriteNumber("source_partition", 0);
            w.WriteNumber("source_offset", 42);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes one v2 tensor; FP32 values as floats, non-finite ones as the v2 literals.</summary>
    public static void Tensor(Utf8JsonWriter w, string name, string datatype, long[] shape, IEnumerable<double> data)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("datatype", datatype);
        w.WriteStartArray("shape");
        foreach (var d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
        w.WriteStartArray("data");
        foreach (var v in data)
        {
            if (!double.IsFinite(v)) w.WriteStringValue(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
            else if (datatype == "FP32") w.WriteNumberValue((float)v);
            else w.WriteNumberValue(v);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static double DrawOne(FeatureProfile profile, Random random)
    {
        var pick = random.NextInt64(profile.Count);
        for (var bin = 0; bin < profile.Counts.Length; bin++)
        {
            if (pick < profile.Counts[bin])
            {
                return profile.Edges[bin] + (random.NextDouble() * (profile.Edges[bin + 1] - profile.Edges[bin]));
            }

            pick -= profile.Counts[bin];
        }

        throw new InvalidOperationException("counts do not add up to the profile's count");
    }

    /// <summary>Box-Muller.</summary>
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
