namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// Closed-loop HTTP runs of every twin at every concurrency: at each concurrency the twins run one
/// after the other, in an order rotated from round to round, and each figure is the median of its rounds.
/// </summary>
public static class HttpComparison
{
    public sealed record Cell(BatchingTwin Twin, int Clients, double RequestsPerSecond, double P50Ms, double P99Ms, int Refused, int Failed);

    public static async Task<IReadOnlyList<Cell>> RunAsync(InferClient client, IReadOnlyList<BatchingTwin> twins, int[] clients, int rounds, TimeSpan duration)
    {
        // Unmeasured: JIT, connections and first batches of every twin.
        foreach (var twin in twins) await HttpClosedLoop.RunAsync(client, twin.Model, clients.Max(), TimeSpan.FromSeconds(1));

        var cells = new List<Cell>();
        foreach (var concurrency in clients)
        {
            var runs = twins.ToDictionary(t => t.Key, _ => new List<HttpClosedLoop.Result>());
            for (var round = 0; round < rounds; round++)
            {
                foreach (var twin in twins.Skip(round % twins.Count).Concat(twins.Take(round % twins.Count)))
                    runs[twin.Key].Add(await HttpClosedLoop.RunAsync(client, twin.Model, concurrency, duration));
            }
            foreach (var twin in twins)
            {
                var results = runs[twin.Key];
                cells.Add(new Cell(twin, concurrency, Median(results.Select(r => r.RequestsPerSecond)), Median(results.Select(r => r.P50Ms)),
                    Median(results.Select(r => r.P99Ms)), results.Sum(r => r.Refused), results.Sum(r => r.Failed)));
                var cell = cells[^1];
                Console.WriteLine($"http {concurrency,3} clients, {twin.Label}: {cell.RequestsPerSecond:N0}/s, p50 {cell.P50Ms:F2} ms, p99 {cell.P99Ms:F2} ms" +
                    (cell.Refused > 0 ? $", {cell.Refused:N0} refused (429)" : "") + (cell.Failed > 0 ? $", {cell.Failed:N0} failed" : ""));
            }
        }
        return cells;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }
}
