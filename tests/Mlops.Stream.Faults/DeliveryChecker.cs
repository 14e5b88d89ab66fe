using System.Globalization;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Faults;

/// <summary>
/// Checks, after a run, what the node did with every request record: reads nothing itself (give it
/// <see cref="ModelTopicContents.Read"/>), so it can be fed made-up topic contents too.
/// Answers are tied to their request record by the <c>mlops-source-partition</c> and
/// <c>-offset</c> headers every Kafka answer carries; served events without them came from HTTP
/// and are not the Kafka path's. A request is known by its <c>mlops-request-id</c> header, else by
/// the id in its body, else by where it is.
/// </summary>
public sealed class DeliveryChecker(IPredictionOracle oracle)
{
    /// <summary>Relative difference allowed between a served output and the direct run (a batch of rows may round differently from one row).</summary>
    public const double Tolerance = 1e-5;

    private const int MaxProblems = 5;

    public DeliveryReport Check(ModelTopicContents topics)
    {
        var problems = new List<string>();
        void Problem(string text) { if (problems.Count < MaxProblems) problems.Add(text); }

        var requestsAt = new Dictionary<(int Partition, long Offset), TopicRecord>();
        var tallies = new Dictionary<string, Tally>();
        foreach (var request in topics.Requests)
        {
            requestsAt[(request.Partition, request.Offset)] = request;
            TallyOf(tallies, IdOf(request)).Records++;
        }

        TopicRecord? RequestOf(TopicRecord answer) =>
            SourceOf(answer) is { } source && requestsAt.TryGetValue(source, out var request) ? request : null;

        var wrong = 0;
        foreach (var prediction in topics.Predictions)
        {
            if (RequestOf(prediction) is not { } request)
            {
                // An answer to a request the broker has since dropped (its log cap) is not the node's error; the report says what was dropped.
                if (SourceOf(prediction) is { } source && source.Offset < topics.RequestLogStarts.GetValueOrDefault(source.Partition)) continue;
                wrong++;
                Problem($"prediction at {prediction.Partition}@{prediction.Offset} answers no request record ({Describe(SourceOf(prediction))})");
                continue;
            }
            var id = IdOf(request);
            TallyOf(tallies, id).Predictions++;
            if (Mismatch(request, prediction) is { } mismatch)
            {
                wrong++;
                Problem($"request {id}: {mismatch}");
            }
        }
        foreach (var letter in topics.DeadLetters)
        {
            if (RequestOf(letter) is { } request) TallyOf(tallies, IdOf(request)).DeadLetters++;
        }
        foreach (var served in topics.Served)
        {
            if (RequestOf(served) is { } request) TallyOf(tallies, IdOf(request)).Served++;
        }

        var lost = 0;
        var duplicated = 0;
        foreach (var (id, tally) in tallies)
        {
            if (tally.Predictions + tally.Served + tally.DeadLetters == 0)
            {
                lost++;
                Problem($"request {id} lost: no prediction, served event or dead letter");
            }
            duplicated += Math.Max(0, tally.Predictions + tally.DeadLetters - tally.Records);
        }

        var reordered = Reordered(topics.Predictions, RequestOf, Problem);
        if (topics.DroppedByBroker.Count > 0)
            problems.Insert(0, $"the broker dropped records from the start of {string.Join(", ", topics.DroppedByBroker.Select(d => $"{d.Key} ({d.Value:N0})"))} " +
                               "(its log cap): requests it dropped before they were read are not counted, answers it dropped can make requests look lost");
        return new DeliveryReport(
            Sent: tallies.Count,
            Predicted: tallies.Values.Count(t => t.Predictions > 0),
            DeadLettered: tallies.Values.Count(t => t.DeadLetters > 0),
            Lost: lost,
            Duplicated: duplicated,
            Wrong: wrong,
            Reordered: reordered,
            LongestGap: LongestGap(topics.Predictions),
            Problems: problems)
        {
            DroppedByBroker = topics.DroppedByBroker,
        };
    }

    /// <summary>Why a prediction is not what the model says for its request; null when it is.</summary>
    private string? Mismatch(TopicRecord request, TopicRecord prediction)
    {
        if (request.Value is null || !InferenceCodec.TryDecodeRequest(request.Value, out var decoded, out _))
            return "a prediction for a request that does not decode";
        InferenceResponse response;
        try
        {
            response = InferenceCodec.DecodeResponse(prediction.Value ?? []);
        }
        catch (Exception e)
        {
            return $"the prediction does not decode: {e.Message}";
        }
        if (response.Id != decoded.Id) return $"the prediction says id {response.Id}, its request {decoded.Id}";
        if (!int.TryParse(response.ModelVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            return $"the prediction names version '{response.ModelVersion}'";
        IReadOnlyList<Tensor> expected;
        try
        {
            expected = oracle.Predict(response.ModelName, version, decoded);
        }
        catch (Exception e)
        {
            return $"the direct run of {response.ModelName} v{version} failed where the node answered: {e.Message}";
        }
        return Difference(response.Outputs, expected);
    }

    /// <summary>The first difference between served and expected outputs, or null.</summary>
    public static string? Difference(IReadOnlyList<Tensor> actual, IReadOnlyList<Tensor> expected)
    {
        if (actual.Count != expected.Count)
            return $"outputs [{string.Join(", ", actual.Select(t => t.Name))}], expected [{string.Join(", ", expected.Select(t => t.Name))}]";
        foreach (var served in actual)
        {
            var direct = expected.FirstOrDefault(t => t.Name == served.Name);
            if (direct is null) return $"output {served.Name} is not one the model gives";
            if (direct.DataType != served.DataType || !direct.Shape.SequenceEqual(served.Shape))
                return $"output {served} differs from the direct run's {direct}";
            var (a, e) = (Values(served), Values(direct));
            for (var i = 0; i < a.Length; i++)
            {
                if (Math.Abs(a[i] - e[i]) > Tolerance * Math.Max(1, Math.Abs(e[i])))
                    return $"{served.Name}[{i}] = {a[i].ToString(CultureInfo.InvariantCulture)}, the direct run gives {e[i].ToString(CultureInfo.InvariantCulture)}";
            }
        }
        return null;
    }

    /// <summary>
    /// First answers per key, in the order the prediction topic holds them (a key's predictions all
    /// land in one partition): each should answer a later request record than the one before.
    /// Answers to a request already answered are duplicates, not reorderings.
    /// </summary>
    private static int Reordered(IReadOnlyList<TopicRecord> predictions, Func<TopicRecord, TopicRecord?> requestOf, Action<string> problem)
    {
        var reordered = 0;
        var answered = new HashSet<(int, long)>();
        var latestByKey = new Dictionary<string, (int Partition, long Offset)>();
        foreach (var prediction in predictions.OrderBy(p => p.Partition).ThenBy(p => p.Offset))
        {
            if (requestOf(prediction) is not { } request || request.Key is null) continue;
            if (!answered.Add((request.Partition, request.Offset))) continue;
            var key = Convert.ToHexString(request.Key);
            if (latestByKey.TryGetValue(key, out var latest) && latest.Partition == request.Partition && request.Offset < latest.Offset)
            {
                reordered++;
                problem($"key {key}: request {request.Partition}@{request.Offset} answered after {latest.Partition}@{latest.Offset}");
                continue;
            }
            latestByKey[key] = (request.Partition, request.Offset);
        }
        return reordered;
    }

    private static double[] Values(Tensor tensor) => tensor.DataType switch
    {
        TensorDataType.Fp32 => [.. tensor.Span<float>().ToArray().Select(v => (double)v)],
        TensorDataType.Fp64 => tensor.Span<double>().ToArray(),
        TensorDataType.Int32 => [.. tensor.Span<int>().ToArray().Select(v => (double)v)],
        TensorDataType.Int64 => [.. tensor.Span<long>().ToArray().Select(v => (double)v)],
        TensorDataType.Bool => [.. tensor.Span<bool>().ToArray().Select(v => v ? 1.0 : 0.0)],
        _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DataType, "unknown tensor data type"),
    };

    private static TimeSpan LongestGap(IReadOnlyList<TopicRecord> predictions)
    {
        var times = predictions.Select(p => p.Timestamp).Order().ToList();
        var longest = TimeSpan.Zero;
        for (var i = 1; i < times.Count; i++)
            if (times[i] - times[i - 1] > longest) longest = times[i] - times[i - 1];
        return longest;
    }

    private static (int Partition, long Offset)? SourceOf(TopicRecord answer) =>
        int.TryParse(answer.Header(ServingHeaders.SourcePartition), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
        && long.TryParse(answer.Header(ServingHeaders.SourceOffset), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? (partition, offset)
            : null;

    private static string Describe((int Partition, long Offset)? source) => source is { } s ? $"source {s.Partition}@{s.Offset}" : "no source headers";

    private static string IdOf(TopicRecord request)
    {
        if (request.Header(ServingHeaders.RequestId) is { } header) return header;
        if (request.Value is not null && InferenceCodec.TryDecodeRequest(request.Value, out var decoded, out _)) return decoded.Id;
        return $"{request.Partition}@{request.Offset}";
    }

    private static Tally TallyOf(Dictionary<string, Tally> tallies, string id)
    {
        if (!tallies.TryGetValue(id, out var tally)) tallies[id] = tally = new Tally();
        return tally;
    }

    private sealed class Tally
    {
        public int Records;
        public int Predictions;
        public int Served;
        public int DeadLetters;
    }
}
