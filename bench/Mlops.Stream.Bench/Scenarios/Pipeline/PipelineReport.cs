using System.Globalization;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Turns the pipeline run's measurements into the tables people read (Kafka rounds, model ceiling,
/// HTTP by concurrency, open-loop latency) and the summary with ratios, goals and the JSON line.
/// </summary>
public sealed class PipelineReport(
    PipelineSettings settings,
    int partitions,
    ModelCeiling.Result ceiling,
    IReadOnlyList<KafkaRounds.Round> rounds,
    IReadOnlyList<OpenLoopResult> kafkaOpen,
    IReadOnlyList<BatchingTwin> twins,
    IReadOnlyList<HttpComparison.Cell> http,
    NodeCost httpCostPerRequest,
    IReadOnlyList<OpenLoopResult> httpOpen)
{
    private const int RatioClients = 64;

    public BenchResult Build()
    {
        var endToEnd = Median(rounds.Select(r => r.EndToEnd.RequestsPerSecond));
        var binary = Median(rounds.Select(r => r.BinaryEndToEnd.RequestsPerSecond));
        var transport = Median(rounds.Select(r => r.TransportPerSecond));
        var naive = Median(rounds.Select(r => r.NaivePerSecond));
        var floor = Math.Min(transport, ceiling.Best);
        var kafkaAllocation = Median(rounds.Select(r => PerRequest(r).AllocatedBytes));
        var kafkaCpu = Median(rounds.Select(r => PerRequest(r).CpuSeconds * 1e6));
        var kafkaCores = Median(rounds.Select(r => r.EndToEnd.CoresBusy));
        PrintTables();

        var result = new BenchResult("pipeline")
            .Add("e2e_rps", "Kafka end to end, one node (median)", endToEnd, "requests/s")
            .Add("transport_rps", "transport ceiling: plain Confluent.Kafka loop (median)", transport, "requests/s")
            .Add("model_ceiling_rows_per_s", $"model ceiling: ONNX Runtime alone, best batch ({ceiling.BestBatch})", ceiling.Best, "rows/s")
            .Add("naive_rps", "naive loop: one at a time, sync produce + commit (median)", naive, "requests/s")
            .Add("e2e_binary_rps", "Kafka end to end, protobuf requests and predictions (median)", binary, "requests/s")
            .Add("binary_to_json_e2e", "e2e protobuf / e2e JSON", binary / endToEnd, "x")
            .Add("ratio_e2e_to_ceiling", "e2e / min(transport, model)", endToEnd / floor, Goal(endToEnd / floor >= 0.9, endToEnd / floor >= 0.8, ">= 0.8, then 0.9"))
            .Add("ratio_e2e_to_transport", "  e2e / transport ceiling", endToEnd / transport, "x")
            .Add("ratio_e2e_to_model", "  e2e / model ceiling", endToEnd / ceiling.Best, "x")
            .Add("ratio_e2e_to_naive", "e2e / naive loop", endToEnd / naive, Goal(endToEnd / naive >= 5, null, ">= 5"))
            .Add("alloc_bytes_per_kafka_request", "node allocations per Kafka request (median)", kafkaAllocation, "bytes")
            .Add("cpu_us_per_kafka_request", "node CPU per Kafka request (median)", kafkaCpu, "µs")
            .Add("e2e_node_cores_busy", "node cores busy while draining (median)", kafkaCores, $"of {Environment.ProcessorCount}")
            .Add("e2e_mean_batch", "node's mean batch during the drain (median)", Median(rounds.Select(r => r.EndToEnd.MeanBatch)), "rows");

        foreach (var cell in http)
        {
            var name = $"http_{cell.Twin.Key}_c{cell.Clients}";
            result.Add($"{name}_rps", $"HTTP {cell.Clients} clients, {cell.Twin.Label}", cell.RequestsPerSecond, "requests/s")
                .Add($"{name}_p50_ms", "  p50", cell.P50Ms, "ms")
                .Add($"{name}_p99_ms", "  p99", cell.P99Ms, "ms");
            if (cell.Refused + cell.Failed > 0)
                result.Add($"{name}_refused", "  refused with 429 (queue full), all rounds", cell.Refused, "requests")
                    .Add($"{name}_failed", "  failed otherwise, all rounds", cell.Failed, "requests");
        }
        AddHttpRatios(result);
        result.Add("alloc_bytes_per_http_request", "node allocations per HTTP request (batched, 64 clients)", httpCostPerRequest.AllocatedBytes, "bytes")
            .Add("cpu_us_per_http_request", "node CPU per HTTP request (batched, 64 clients)", httpCostPerRequest.CpuSeconds * 1e6, "µs");

        foreach (var run in kafkaOpen.Concat(httpOpen))
        {
            var name = $"{run.Path.ToLowerInvariant()}_open{run.Fraction * 100:F0}";
            result.Add($"{name}_offered_rps", $"open loop {run.Label}", run.OfferedPerSecond, "requests/s")
                .Add($"{name}_p50_ms", "  p50 (from intended start)", run.Latency.P50, "ms")
                .Add($"{name}_p99_ms", "  p99", run.Latency.P99, "ms")
                .Add($"{name}_p999_ms", "  p99.9", run.Latency.P999, "ms")
                .Add($"{name}_lost", "  not answered", run.Lost, "");
        }

        foreach (var (batch, rows) in ceiling.RowsPerSecond.OrderBy(r => r.Key))
            result.Note($"model_rows_per_s_b{batch}", Math.Round(rows, 1));
        return result
            .Note("model_best_batch", ceiling.BestBatch)
            .Note("e2e_rps_rounds", Rounded(rounds.Select(r => r.EndToEnd.RequestsPerSecond)))
            .Note("transport_rps_rounds", Rounded(rounds.Select(r => r.TransportPerSecond)))
            .Note("naive_rps_rounds", Rounded(rounds.Select(r => r.NaivePerSecond)))
            .Note("e2e_committed_to_end", true)
            .Note("e2e_served_events", rounds.Sum(r => r.EndToEnd.ServedEvents))
            .Note("request_bytes", rounds[0].Backlog.Bytes / rounds[0].Backlog.Requests)
            .Note("prediction_bytes", rounds[0].PredictionBytes)
            .Note("served_event_bytes", rounds[0].ServedBytes)
            .Note("e2e_binary_rps_rounds", Rounded(rounds.Select(r => r.BinaryEndToEnd.RequestsPerSecond)))
            .Note("binary_request_bytes", rounds[0].BinaryBacklog.Bytes / rounds[0].BinaryBacklog.Requests)
            .Note("alloc_bytes_per_binary_kafka_request", Math.Round(Median(rounds.Select(r => r.BinaryEndToEnd.Cost.PerRequest(r.BinaryEndToEnd.Requests).AllocatedBytes))))
            .Note("requests", settings.Requests).Note("partitions", partitions).Note("rounds", settings.Rounds)
            .Note("http_seconds", settings.HttpSeconds).Note("open_loop_seconds", settings.OpenLoopSeconds)
            .Note("cores", Environment.ProcessorCount);
    }

    private void AddHttpRatios(BenchResult result)
    {
        HttpComparison.Cell? Cell(string key, int clients) => http.FirstOrDefault(c => c.Twin.Key == key && c.Clients == clients);
        if (Cell("batched", RatioClients) is { } batched && Cell("b1", RatioClients) is { } single)
        {
            var ratio = batched.RequestsPerSecond / single.RequestsPerSecond;
            var p99Kept = batched.P99Ms <= single.P99Ms;
            result.Add("ratio_http_batched_to_naive", $"HTTP batched / batching off at {RatioClients} clients", ratio,
                    Goal(ratio >= 3 && p99Kept, null, ">= 3 at equal or lower p99") + $" (p99 {batched.P99Ms:F1} vs {single.P99Ms:F1} ms)")
                .Note("http_batched_p99_not_higher", p99Kept);
        }
        foreach (var clients in new[] { 64, 256 })
        {
            if (Cell("batched", clients) is { } now && Cell("wait5", clients) is { } before)
                result.Add($"ratio_http_idle_dispatch_to_wait5_c{clients}", $"HTTP dispatch when idle / wait 5 ms at {clients} clients", now.RequestsPerSecond / before.RequestsPerSecond,
                    Goal(now.RequestsPerSecond >= before.RequestsPerSecond, null, ">= 1 (capacity not lower than before)"));
        }
        if (Cell("batched", 1) is { } idle)
            result.Add("idle_p50_ms", "one sequential HTTP client, p50 (batched)", idle.P50Ms, Goal(idle.P50Ms <= 1, null, "<= 1 ms"));
    }

    /// <summary>The unit column of a ratio: its goal and whether it is met (the second bar, when there is one, is the first step).</summary>
    private static string Goal(bool met, bool? firstStepMet, string goal) =>
        $"goal {goal}: " + (met ? "met" : firstStepMet == true ? "first step met" : "MISSED");

    private void PrintTables()
    {
        Console.WriteLine();
        Console.WriteLine($"Kafka, requests/s ({settings.Requests:N0} requests per round; the node from first to last prediction, loops from first record to last ack)");
        Console.WriteLine($"{"round",5}  {"node e2e",10}  {"e2e binary",10}  {"transport",10}  {"naive",8}  {"node alloc B/req",16}  {"node CPU µs/req",15}  {"node mean batch",15}");
        foreach (var r in rounds)
            Console.WriteLine($"{r.Index + 1,5}  {r.EndToEnd.RequestsPerSecond,10:N0}  {r.BinaryEndToEnd.RequestsPerSecond,10:N0}  {r.TransportPerSecond,10:N0}  {r.NaivePerSecond,8:N0}  " +
                $"{PerRequest(r).AllocatedBytes,16:N0}  {PerRequest(r).CpuSeconds * 1e6,15:F1}  {r.EndToEnd.MeanBatch,15:F1}");
        Console.WriteLine("e2e binary: the same requests as protobuf ModelInferRequest records (raw_input_contents), answered as ModelInferResponse");

        Console.WriteLine();
        Console.WriteLine("model ceiling, ONNX Runtime alone (rows/s, median of 3)");
        foreach (var (batch, rows) in ceiling.RowsPerSecond.OrderBy(r => r.Key))
            Console.WriteLine($"  batch {batch,4}: {rows,12:N0}{(batch == ceiling.BestBatch ? "  best" : "")}");

        Console.WriteLine();
        Console.WriteLine($"HTTP closed loop, same node and ONNX file (median of {settings.Rounds} rounds of {settings.HttpSeconds} s)");
        Console.WriteLine($"{"clients",7}  " + string.Join("  ", twins.Select(t => $"{t.Label,-44}")));
        Console.WriteLine($"{"",7}  " + string.Join("  ", twins.Select(_ => $"{"req/s",10} {"p50 ms",8} {"p99 ms",8} {"refused",15}")));
        foreach (var clients in settings.Clients)
            Console.WriteLine($"{clients,7}  " + string.Join("  ", twins.Select(t => http.Single(c => c.Twin == t && c.Clients == clients))
                .Select(c => $"{c.RequestsPerSecond,10:N0} {c.P50Ms,8:F2} {c.P99Ms,8:F2} {(c.Refused > 0 ? c.Refused.ToString("N0", CultureInfo.InvariantCulture) : ""),15}")));
        if (http.Any(c => c.Refused > 0))
            Console.WriteLine("refused: 429 queue_full, the caller then waits the node's Retry-After (1 s); every twin's queue holds 1,024 requests");

        Console.WriteLine();
        Console.WriteLine("open loop (latency from each request's intended start)");
        foreach (var r in kafkaOpen.Concat(httpOpen))
            Console.WriteLine($"  {r.Label,-40} p50 {r.Latency.P50,8:F2} ms  p99 {r.Latency.P99,8:F2} ms  p99.9 {r.Latency.P999,8:F2} ms  answered {r.Answered:N0}/{r.Sent:N0}");
    }

    /// <summary>What one request of a round cost the node while it drained.</summary>
    private static NodeCost PerRequest(KafkaRounds.Round round) => round.EndToEnd.Cost.PerRequest(round.EndToEnd.Requests);

    private static double Median(IEnumerable<double> values) => HttpComparison.Median(values);

    private static double[] Rounded(IEnumerable<double> values) => [.. values.Select(v => Math.Round(v, 1))];
}
