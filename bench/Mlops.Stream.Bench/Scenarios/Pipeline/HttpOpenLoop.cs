namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// HTTP latency at a fixed offered load: each inference is started at its intended time without
/// waiting for earlier ones, and timed from that intended time to its answer.
/// </summary>
public static class HttpOpenLoop
{
    public static async Task<OpenLoopResult> RunAsync(InferClient client, string model, double fraction, double rate, TimeSpan duration)
    {
        var schedule = new OpenLoopSchedule(rate, duration);
        var latency = new LatencySample();
        var answered = 0L;
        var calls = new List<Task>((int)schedule.Total);
        var sendSeconds = await Task.Factory.StartNew(() => schedule.Run((_, due) => calls.Add(Call(due))), TaskCreationOptions.LongRunning);
        await Task.WhenAll(calls);
        return new OpenLoopResult("HTTP", fraction, rate, schedule.Total, answered, sendSeconds, latency);

        async Task Call(long due)
        {
            var (outcome, ms, _) = await client.InferAsync(model, due);
            if (outcome != InferClient.Outcome.Ok) return;
            latency.Add(ms);
            Interlocked.Increment(ref answered);
        }
    }
}
