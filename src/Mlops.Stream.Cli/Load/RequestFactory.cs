using System.Text.Json;

namespace Mlops.Stream.Cli.Load;

/// <summary>
/// Builds valid v2 requests for a model: one row per request, shaped and typed as the model's inputs
/// say (<c>GET /v2/models/{model}</c>). The feature input is drawn from the version's reference
/// profile (<c>GET /api/v1/models/{model}/reference</c>): a histogram bin by its reference count, then
/// a value inside the bin, so undrifted traffic matches what drift jobs compare against. Other inputs,
/// or all of them when the node has no profile, get standard normal values. <c>drift</c> shifts every
/// value by that many reference standard deviations. Deterministic for a seed. Not thread-safe.
/// </summary>
internal sealed class RequestFactory
{
    private readonly IReadOnlyList<InputPlan> _inputs;
    private readonly Random _random;
    private readonly double _drift;

    private RequestFactory(IReadOnlyList<InputPlan> inputs, int seed, double drift, string features)
    {
        _inputs = inputs;
        _random = new Random(seed);
        _drift = drift;
        Features = features;
    }

    /// <summary>Where the values come from, for the report.</summary>
    public string Features { get; }

    public static async Task<RequestFactory> CreateAsync(AdminClient client, string model, int seed, double drift, CancellationToken ct)
    {
        var segment = AdminClient.Segment(model);
        var metadata = (await client.GetAsync($"v2/models/{segment}", KafkaJsonContext.Default.ModelMetadataDto, ct)).Value;
        if (metadata.Inputs.Count == 0)
            throw new CliException(ExitCodes.Refused, $"model '{model}' has no known inputs yet; is it serving? (mlops models status {model})");
        ModelReferenceDto? reference = null;
        try
        {
            reference = (await client.GetAsync($"api/v1/models/{segment}/reference", KafkaJsonContext.Default.ModelReferenceDto, ct)).Value;
        }
        catch (CliException e) when (e.ExitCode == ExitCodes.Refused)
        {
            // A node without the route or a version without a manifest: standard normal values below.
        }

        var profile = reference?.Features is { Count: > 0 } features ? features : null;
        var profiled = profile is null ? null : metadata.Inputs.FirstOrDefault(i => Concrete(i.Shape) is [.., var last] && last == profile.Count);
        var inputs = metadata.Inputs.Select(i => InputPlan.For(i, i == profiled ? profile : null)).ToList();
        var description = profiled is null
            ? "standard normal values (the model has no reference profile)"
            : $"input {profiled.Name} from the reference profile of version {reference!.Version}";
        return new RequestFactory(inputs, seed, drift, description);
    }

    /// <summary>Writes one request object: <c>{"id", "inputs": [...]}</c>.</summary>
    public void Write(Utf8JsonWriter writer, string id)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteStartArray("inputs");
        foreach (var input in _inputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", input.Name);
            writer.WriteString("datatype", input.DataType);
            writer.WriteStartArray("shape");
            foreach (var dimension in input.Shape) writer.WriteNumberValue(dimension);
            writer.WriteEndArray();
            writer.WriteStartArray("data");
            for (var i = 0; i < input.Elements; i++) WriteElement(writer, input.DataType, NextValue(input, i));
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private double NextValue(InputPlan input, int element)
    {
        if (input.Profile is { } profile)
        {
            var feature = profile[element % profile.Count];
            return feature.Sample(_random) + _drift * feature.StdDev;
        }
        return StandardNormal() + _drift;
    }

    /// <summary>Box–Muller.</summary>
    private double StandardNormal() =>
        Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    private static void WriteElement(Utf8JsonWriter writer, string dataType, double value)
    {
        switch (dataType)
        {
            case "FP64": writer.WriteNumberValue(value); break;
            case "FP32" or "FP16": writer.WriteNumberValue((float)value); break;
            case "BOOL": writer.WriteBooleanValue(value > 0); break;
            default: writer.WriteNumberValue((long)Math.Clamp(Math.Round(value), IntegerRange(dataType).Min, IntegerRange(dataType).Max)); break;
        }
    }

    private static (double Min, double Max) IntegerRange(string dataType) => dataType switch
    {
        "INT8" => (sbyte.MinValue, sbyte.MaxValue),
        "INT16" => (short.MinValue, short.MaxValue),
        "INT32" => (int.MinValue, int.MaxValue),
        "UINT8" => (0, byte.MaxValue),
        "UINT16" => (0, ushort.MaxValue),
        "UINT32" => (0, uint.MaxValue),
        "UINT64" => (0, long.MaxValue),
        _ => (long.MinValue, long.MaxValue),
    };

    /// <summary>The shape of one request: every dimension of any size (-1, the batch axis) becomes 1.</summary>
    private static long[] Concrete(IReadOnlyList<long> shape) => [.. shape.Select(d => d < 0 ? 1 : d)];

    private sealed record InputPlan(string Name, string DataType, long[] Shape, int Elements, IReadOnlyList<FeatureSampler>? Profile)
    {
        /// <summary>Largest input of one generated request; a load generator sends rows, not images.</summary>
        private const long MaxElements = 100_000;

        private static readonly HashSet<string> Supported =
            ["FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "BOOL"];

        public static InputPlan For(TensorMetadataDto input, IReadOnlyList<FeatureReferenceDto>? profile)
        {
            if (!Supported.Contains(input.DataType))
                throw new CliException(ExitCodes.Usage, $"load cannot generate values for input '{input.Name}' of datatype {input.DataType}");
            var shape = Concrete(input.Shape);
            var elements = shape.Aggregate(1L, (product, d) => product * d);
            if (elements > MaxElements)
                throw new CliException(ExitCodes.Usage, $"input '{input.Name}' holds {elements} values per request; load generates at most {MaxElements}");
            return new InputPlan(input.Name, input.DataType, shape, (int)elements, profile?.Select(f => new FeatureSampler(f)).ToList());
        }
    }

    /// <summary>Draws from one feature's reference histogram: a bin by its count, then uniformly inside it.</summary>
    private sealed class FeatureSampler(FeatureReferenceDto feature)
    {
        private readonly long[] _cumulative = Cumulative(feature.Counts);

        public double StdDev => feature.StdDev;

        public double Sample(Random random)
        {
            if (feature.Edges.Count < 2 || _cumulative is [] || _cumulative[^1] == 0) return feature.Mean;
            // The first bin whose running count passes the pick: bins with no reference values never win.
            var pick = random.NextInt64(_cumulative[^1]);
            int bin = 0, last = _cumulative.Length - 1;
            while (bin < last)
            {
                var middle = (bin + last) / 2;
                if (_cumulative[middle] > pick) last = middle;
                else bin = middle + 1;
            }
            bin = Math.Min(bin, feature.Edges.Count - 2);
            var low = feature.Edges[bin];
            return low + random.NextDouble() * (feature.Edges[bin + 1] - low);
        }

        private static long[] Cumulative(IReadOnlyList<long> counts)
        {
            var sums = new long[counts.Count];
            long total = 0;
            for (var i = 0; i < sums.Length; i++) sums[i] = total += Math.Max(0, counts[i]);
            return sums;
        }
    }
}
