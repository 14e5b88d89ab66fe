using System.Diagnostics;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Kafka.Embedded;
using Mlops.Stream.Testing;

namespace Mlops.Stream.Faults;

/// <summary>What one fault did to a run: the checker's report, the duplicates the node counted in <c>/metrics</c> meanwhile, and the HTTP side.</summary>
public sealed record FaultRunResult(
    BrokerFault Fault, DeliveryReport Report, long DuplicatesOnMetrics, int HttpAnswered, IReadOnlyList<string> HttpFailures,
    IReadOnlyList<string> ProduceFailures, TimeSpan Duration)
{
    /// <summary>Poisoned Kafka requests sent: each should be dead-lettered, and nothing else.</summary>
    public int PoisonSent { get; init; }

    /// <summary>Poisoned HTTP requests refused with a JSON error code, by "status code".</summary>
    public IReadOnlyDictionary<string, int> HttpPoisonRefused { get; init; } = new Dictionary<string, int>();

    /// <summary>Good HTTP requests refused with a status the fault allows and a code, by "status code".</summary>
    public IReadOnlyDictionary<string, int> HttpRefused { get; init; } = new Dictionary<string, int>();

    /// <summary>The longest an HTTP request waited for its answer.</summary>
    public TimeSpan LongestHttpAnswer { get; init; }

    /// <summary>Consumer lag and memory around the fault, when the fault watches them (<see cref="BrokerFault.AwaitsRecovery"/>).</summary>
    public Backpressure? Backpressure { get; init; }

    /// <summary>
    /// Nothing lost, nothing wrong, every duplicate counted, exactly the poisoned requests
    /// dead-lettered, every HTTP request answered (served, or refused with a code as the fault allows),
    /// and nothing dropped by the broker's log cap (which would make the check unfair).
    /// </summary>
    public bool Held => Report.Lost == 0 && Report.Wrong == 0 && Report.Duplicated == DuplicatesOnMetrics && HttpFailures.Count == 0
                        && Report.DeadLettered == PoisonSent && Report.DroppedByBroker.Count == 0;

    public override string ToString() =>
        $"{Fault.Name} ({Fault.Description}): {Report}; duplicates on /metrics {DuplicatesOnMetrics}; HTTP answered {HttpAnswered}, failed {HttpFailures.Count}" +
        (HttpFailures.Count == 0 ? "" : $" (first: {HttpFailures[0]})") +
        (HttpRefused.Count == 0 ? "" : $", refused {Tally(HttpRefused)}") +
        (PoisonSent == 0 && HttpPoisonRefused.Count == 0 ? "" : $"; poisoned: {PoisonSent} sent on Kafka, refused over HTTP {Tally(HttpPoisonRefused)}") +
        $"; longest HTTP answer {LongestHttpAnswer.TotalSeconds:F2} s" +
        (Backpressure is { } b ? $"; {b}" : "") +
        (ProduceFailures.Count == 0 ? "" : $"; the load's own producer failed {ProduceFailures.Count} (first: {ProduceFailures[0]})") +
        $"; {Duration.TotalSeconds:F1} s";

    /// <summary>"12 x 504 timed_out, 3 x 429 queue_full", or "none".</summary>
    public static string Tally(IReadOnlyDictionary<string, int> answers) =>
        answers.Count == 0 ? "none" : string.Join(", ", answers.OrderByDescending(a => a.Value).Select(a => $"{a.Value} x {a.Key}"));
}

/// <summary>Where a fault run happens: the broker (the test's or the bench's own), one node serving the model, and an oracle for its versions.</summary>
public sealed record FaultTarget(EmbeddedKafka Broker, HttpClient Node, string Model, IPredictionOracle Oracle)
{
    /// <summary>The node process's resident memory in bytes, where the run can see it (a node of its own process); null otherwise.</summary>
    public Func<long>? ResidentBytes { get; init; }

    /// <summary>
    /// The duplicates the serving side has counted so far (<c>mlops_kafka_duplicates_total</c>); when
    /// null, <see cref="Node"/>'s. A cluster sums its nodes (the node that answers a record again counts it).
    /// </summary>
    public Func<Task<long>>? CountDuplicatesAsync { get; init; }

    public ModelTopics Topics => ModelTopics.For(Mlops.Stream.Kafka.Topics.TopicCatalog.Default, Model);
}

/// <summary>
/// One scenario: steady Kafka and HTTP load on a node, a broker fault in the middle, then the load
/// stops and the run is checked once every request has had time to be answered. The check is
/// repeated until it holds (nothing lost, the node's duplicate counter equal to the duplicates
/// found) or <see cref="SettleTimeout"/> passes; either way the last check is returned, so a test
/// can assert on it and a bench can print it.
/// </summary>
public static class FaultRun
{
    public const string DuplicatesMetric = "mlops_kafka_duplicates_total";
    public static readonly TimeSpan SettleTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan LoadAround = TimeSpan.FromSeconds(2);

    public static async Task<FaultRunResult> RunAsync(BrokerFault fault, FaultTarget target, int rate = 200, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        void Phase(string what) => log?.Invoke($"{clock.Elapsed.TotalSeconds,6:F1} s  {fault.Name}: {what}");
        var topics = target.Topics;
        // Load starts once the model serves, so an HTTP refusal while it loads is not blamed on the fault.
        await Eventually.HoldsAsync(async () =>
        {
            using var ready = await target.Node.GetAsync($"/v2/models/{target.Model}/ready").ConfigureAwait(false);
            return ready.IsSuccessStatusCode;
        }, $"model {target.Model} is ready", SettleTimeout).ConfigureAwait(false);
        if (fault.PrepareAsync is { } prepare)
        {
            await prepare(target, CancellationToken.None).ConfigureAwait(false);
            Phase("prepared");
        }
        var duplicatesBefore = await DuplicatesCountedAsync(target).ConfigureAwait(false);

        var load = FaultLoad.Start(target.Broker.BootstrapServers, topics, target.Node, target.Model, $"{fault.Name}-{Guid.NewGuid():N}"[..(fault.Name.Length + 9)], rate,
            fault.Load);
        var watch = fault.AwaitsRecovery ? BackpressureWatch.Start(target) : null;
        try
        {
            await using (load.ConfigureAwait(false))
            {
                // The node answers before the fault, so the fault hits a stream at work.
                await Eventually.HoldsAsync(() => TopicReader.EndOffsetSum(target.Broker.BootstrapServers, topics.Predictions) > 0,
                    "the node writes predictions", SettleTimeout).ConfigureAwait(false);
                await Task.Delay(LoadAround).ConfigureAwait(false);
                Phase($"load running ({load.Produced} sent); fault starts");
                watch?.FaultStarts();
                await Task.WhenAll(
                    fault.InjectAsync(target.Broker, topics, CancellationToken.None),
                    fault.OnNodeAsync?.Invoke(target, CancellationToken.None) ?? Task.CompletedTask).ConfigureAwait(false);
                Phase($"fault over ({load.Produced} sent)");
                if (watch is not null)
                {
                    var recovered = await watch.WaitForRecoveryAsync(rate, SettleTimeout).ConfigureAwait(false);
                    Phase(recovered ? "lag back to before the fault" : $"lag still above before the fault after {SettleTimeout}");
                }
                await Task.Delay(LoadAround).ConfigureAwait(false);
                await load.StopAsync().ConfigureAwait(false);
                Phase($"load stopped: {load.Produced} Kafka requests, {load.HttpAnswered} HTTP answered");
            }

            var checker = new DeliveryChecker(target.Oracle);
            var deadline = DateTime.UtcNow + SettleTimeout;
            while (true)
            {
                var report = checker.Check(ModelTopicContents.Read(target.Broker.BootstrapServers, topics));
                var counted = await DuplicatesCountedAsync(target).ConfigureAwait(false) - duplicatesBefore;
                var result = new FaultRunResult(fault, report, counted, load.HttpAnswered, [.. load.HttpFailures], [.. load.ProduceFailures], clock.Elapsed)
                {
                    PoisonSent = load.PoisonProduced,
                    HttpPoisonRefused = load.HttpPoisonRefused.ToDictionary(),
                    HttpRefused = load.HttpRefused.ToDictionary(),
                    LongestHttpAnswer = load.LongestHttpAnswer,
                };
                if ((report.Lost == 0 && report.Duplicated == counted) || DateTime.UtcNow > deadline)
                {
                    if (watch is not null) result = result with { Backpressure = await watch.StopAsync().ConfigureAwait(false) };
                    Phase($"checked: {result}");
                    return result;
                }
                await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
        }
        finally
        {
            // A run cut short by an exception stops its sampling too.
            if (watch is not null) await watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<long> DuplicatesCountedAsync(FaultTarget target) =>
        target.CountDuplicatesAsync is { } count
            ? await count().ConfigureAwait(false)
            : (long)(await PrometheusText.ScrapeAsync(target.Node).ConfigureAwait(false)).Sum(DuplicatesMetric, ("model", target.Model));
}
