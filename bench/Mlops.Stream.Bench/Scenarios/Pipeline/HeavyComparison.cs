namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>HTTP batched against batching off on the <see cref="HeavyModel"/>, at each concurrency asked for.</summary>
public sealed record HeavyComparison(HeavyModel Model, IReadOnlyList<HttpComparison.Cell> Cells)
{
    private IEnumerable<(int Clients, HttpComparison.Cell Batched, HttpComparison.Cell Single)> Pairs() =>
        Cells.GroupBy(c => c.Clients).Select(at => (at.Key,
            at.Single(c => c.Twin.Key == BatchingTwins.ShippedKey), at.Single(c => c.Twin.Key != BatchingTwins.ShippedKey)));

    public void AddTo(BenchResult result)
    {
        result.Add("heavy_model_batch1_ms", $"heavy model ({Model.Layers} x {Model.Width} dense layers added), one row, ONNX Runtime alone", Model.Batch1Ms, "ms")
            .Add("heavy_model_batch64_ms", "  64 rows", Model.Batch64Ms, "ms")
            .Add("heavy_model_row_speedup_b64", "  a row in a batch of 64 / a row alone", Model.RowSpeedupAt64, "x cheaper");
        foreach (var cell in Cells)
        {
            var name = $"http_heavy_{cell.Twin.Key}_c{cell.Clients}";
            result.Add($"{name}_rps", $"HTTP heavy model, {cell.Clients} clients, {cell.Twin.Label}", cell.RequestsPerSecond, "requests/s")
                .Add($"{name}_p50_ms", "  p50", cell.P50Ms, "ms")
                .Add($"{name}_p99_ms", "  p99", cell.P99Ms, "ms");
        }
        foreach (var (clients, batched, single) in Pairs())
        {
            var ratio = batched.RequestsPerSecond / single.RequestsPerSecond;
            var p99Kept = batched.P99Ms <= single.P99Ms;
            result.Add($"ratio_http_batched_to_naive_heavy_c{clients}", $"HTTP batched / batching off, heavy model, {clients} clients", ratio,
                $"goal >= 3 at equal or lower p99: {(ratio >= 3 && p99Kept ? "met" : "MISSED")} (p99 {batched.P99Ms:F1} vs {single.P99Ms:F1} ms)");
        }
    }

    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine(Model.Describe());
        foreach (var (clients, batched, single) in Pairs())
            Console.WriteLine($"  {clients,3} clients: batched {batched.RequestsPerSecond:N0}/s (p50 {batched.P50Ms:F2}, p99 {batched.P99Ms:F2} ms), " +
                $"batching off {single.RequestsPerSecond:N0}/s (p50 {single.P50Ms:F2}, p99 {single.P99Ms:F2} ms): {batched.RequestsPerSecond / single.RequestsPerSecond:F2}x");
    }
}
