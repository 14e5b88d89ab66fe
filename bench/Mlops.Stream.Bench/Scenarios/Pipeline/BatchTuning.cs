namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Issue 12's two batching comparisons at equal concurrency, from one set of closed-loop runs:
/// the latency objective (AIMD on the batch size, as Clipper does) against the best fixed max batch
/// size whose p99 is no higher than the objective's, and two instances against one.
/// </summary>
public sealed class BatchTuning(IReadOnlyList<HttpComparison.Cell> cells)
{
    /// <summary>At one concurrency: the adaptive twin, the fixed twin it is held against (null when no fixed size got its p99 that low), and the instances pair.</summary>
    public sealed record Verdict(int Clients, HttpComparison.Cell Adaptive, HttpComparison.Cell? BestFixedAtP99, HttpComparison.Cell BestFixed,
        HttpComparison.Cell Instances, HttpComparison.Cell OneInstance);

    public IEnumerable<Verdict> Verdicts() =>
        cells.GroupBy(c => c.Clients).Select(at =>
        {
            var fixedSizes = at.Where(c => BatchingTwins.FixedBatch(c.Twin) is not null).ToList();
            var adaptive = at.Single(c => c.Twin.Key == BatchingTwins.AdaptiveKey);
            var atP99 = fixedSizes.Where(c => c.P99Ms <= adaptive.P99Ms).MaxBy(c => c.RequestsPerSecond);
            return new Verdict(at.Key, adaptive, atP99, fixedSizes.MaxBy(c => c.RequestsPerSecond)!,
                at.Single(c => c.Twin.Key == BatchingTwins.InstancesKey), at.Single(c => c.Twin.Key == BatchingTwins.ShippedKey));
        });

    public void AddTo(BenchResult result)
    {
        foreach (var cell in cells)
        {
            var name = $"tuning_{cell.Twin.Key}_c{cell.Clients}";
            result.Add($"{name}_rps", $"tuning, {cell.Clients} clients, {cell.Twin.Label}", cell.RequestsPerSecond, "requests/s")
                .Add($"{name}_p99_ms", "  p99", cell.P99Ms, "ms");
        }
        foreach (var v in Verdicts())
        {
            if (v.BestFixedAtP99 is { } fixedAtP99)
                result.Add($"ratio_adaptive_to_best_fixed_c{v.Clients}", $"latency objective / best fixed size at equal or lower p99 ({FixedLabel(fixedAtP99)}), {v.Clients} clients",
                    v.Adaptive.RequestsPerSecond / fixedAtP99.RequestsPerSecond, "x");
            else
                result.Note($"ratio_adaptive_to_best_fixed_c{v.Clients}_status", $"no fixed size had a p99 as low as the objective's {v.Adaptive.P99Ms:F2} ms");
            result.Add($"ratio_adaptive_to_best_fixed_any_p99_c{v.Clients}", $"  latency objective / best fixed size at any p99 ({FixedLabel(v.BestFixed)})",
                    v.Adaptive.RequestsPerSecond / v.BestFixed.RequestsPerSecond, "x")
                .Add($"ratio_instances2_to_1_c{v.Clients}", $"2 instances / 1 instance, {v.Clients} clients", v.Instances.RequestsPerSecond / v.OneInstance.RequestsPerSecond,
                    $"x (p99 {v.Instances.P99Ms:F1} vs {v.OneInstance.P99Ms:F1} ms)");
        }
    }

    public void Print()
    {
        Console.WriteLine();
        Console.WriteLine("batch tuning (HTTP closed loop, req/s and p99 ms, median of rounds)");
        foreach (var v in Verdicts())
        {
            Console.WriteLine($"  {v.Clients} clients:");
            foreach (var cell in cells.Where(c => c.Clients == v.Clients))
                Console.WriteLine($"    {cell.Twin.Label,-40} {cell.RequestsPerSecond,10:N0} req/s  p99 {cell.P99Ms,7:F2} ms");
            Console.WriteLine(v.BestFixedAtP99 is { } f
                ? $"    latency objective against {FixedLabel(f)} (the best fixed size at equal or lower p99): {v.Adaptive.RequestsPerSecond / f.RequestsPerSecond:F2}x"
                : $"    no fixed size had a p99 as low as the latency objective's ({v.Adaptive.P99Ms:F2} ms)");
            Console.WriteLine($"    2 instances against 1: {v.Instances.RequestsPerSecond / v.OneInstance.RequestsPerSecond:F2}x");
        }
    }

    private static string FixedLabel(HttpComparison.Cell cell) => $"max batch {BatchingTwins.FixedBatch(cell.Twin)}";
}
