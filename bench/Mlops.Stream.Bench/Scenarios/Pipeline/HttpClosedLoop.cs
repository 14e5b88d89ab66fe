using System.Diagnostics;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// <c>clients</c> callers, each sending its next inference as soon as the last is answered, for a
/// fixed time: throughput and latency percentiles (of answered calls) at that concurrency. A caller
/// refused with 429 (a full queue) waits what the node's <c>Retry-After</c> says, as an HTTP client
/// library does, rather than spinning on the shared cores; refusals are counted.
/// </summary>
public static class HttpClosedLoop
{
    public sealed record Result(int Clients, int Ok, int Refused, int Failed, double Seconds, double P50Ms, double P99Ms)
    {
        public double RequestsPerSecond => Ok / Seconds;
    }

    public static async Task<Result> RunAsync(InferClient client, string model, int clients, TimeSpan duration)
    {
        var latencies = new LatencySample();
        var (refused, failed) = (0, 0);
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (stopwatch.Elapsed < duration)
            {
                var (outcome, ms, retryAfter) = await client.InferAsync(model, Stopwatch.GetTimestamp());
                if (outcome == InferClient.Outcome.Ok) latencies.Add(ms);
                else if (outcome == InferClient.Outcome.Failed) Interlocked.Increment(ref failed);
                else
                {
                    Interlocked.Increment(ref refused);
                    var left = duration - stopwatch.Elapsed;
                    if (left > TimeSpan.Zero) await Task.Delay(retryAfter < left ? retryAfter : left);
                }
            }
        })));
        return new Result(clients, latencies.Count, refused, failed, stopwatch.Elapsed.TotalSeconds, latencies.P50, latencies.P99);
    }
}
