using System.Globalization;
using Mlops.Stream.Bench.Cluster;
using Mlops.Stream.Demo;
using Mlops.Stream.Faults;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Bench.Scenarios;

/// <summary>
/// Issue 14's broker faults (scenarios 1 to 5, and a rebalance while the broker is slow), each on a
/// fresh embedded broker and one node process under steady Kafka load (<c>--rate</c> requests a
/// second, open loop) and one HTTP client: broker down 10 s, every answer 500 ms late, pushed
/// produce errors, pushed commit errors, partition leaders moved, partitions lost and assigned
/// again under 500 ms answers. After each, the delivery checker reads the model's topics and reports
/// sent, predicted, dead-lettered, lost, duplicated (and what the node counted in
/// <c>mlops_kafka_duplicates_total</c>), wrong against a direct ONNX Runtime run, reordered per
/// key and the longest gap between predictions. The same runs are the <c>BrokerFaultTests</c>.
/// The model faults (<see cref="ModelFaults"/>: a version that throws for some inputs, a version
/// ten times as costly for a while, whose cost is measured first) run the same way, then the
/// broker's log cap (<see cref="LogCapRun"/>).
/// Then the cluster scenarios (<see cref="NodeFaults"/>: replicas scaled, a node killed and
/// restarted, a rolling restart, on three node processes) and the cost of exactly-once
/// (<see cref="DeliveryCost"/>). <c>--only NAME</c> runs one scenario (<c>delivery</c> for the cost alone).
/// </summary>
public static class FaultsScenario
{
    private const string Model = DemoModelBuilder.DefaultModelName;

    public static async Task<BenchResult> RunAsync(BenchArgs args)
    {
        var rate = args.Int("rate", 200);
        var only = args.Text("only");
        IReadOnlyList<BrokerFault> oneNodeFaults = [.. BrokerFaults.All, .. ModelFaults.All];
        var faults = only is null ? oneNodeFaults : oneNodeFaults.Where(f => f.Name == only).ToList();
        if (only is not null && faults.Count == 0 && only != "delivery" && only != LogCapRun.Name && !NodeFaults.IsNamed(only))
            throw new ArgumentException($"--only {only}: no such scenario");
        var results = new List<FaultRunResult>();
        var modelCost = faults.Contains(ModelFaults.SlowModel) ? SlowModelCost.Measure(Console.WriteLine) : null;
        foreach (var fault in faults)
        {
            Console.WriteLine($"--- {fault.Name}: {fault.Description}, {rate} Kafka requests/s ---");
            using var cluster = await LocalCluster.StartAsync(Model, nodes: 1, brokers: fault.Brokers, extraArguments: fault.NodeArguments);
            using var oracle = new RegistryOracle(new FolderModelRegistry(cluster.RegistryPath));
            var node = cluster.Nodes[0];
            var target = new FaultTarget(cluster.Broker, cluster.Http[0], Model, oracle) { ResidentBytes = () => node.Resident };
            results.Add(await FaultRun.RunAsync(fault, target, rate, Console.WriteLine));
        }
        foreach (var fault in NodeFaults.All.Where(f => only is null || only == f.Name))
        {
            Console.WriteLine($"--- {fault.Name}: {fault.Description}, {rate} Kafka requests/s ---");
            results.Add(await NodeFaults.RunAsync(fault, Model, rate, Console.WriteLine));
        }
        PrintTable(results);
        PrintModelFaults(results);
        var result = Result(results, rate);
        modelCost?.AddTo(result);
        if (only is null or LogCapRun.Name) AddLogCap(result, await LogCapRun.RunAsync(Model, Console.WriteLine));
        if (only is null or "delivery")
        {
            var requests = args.Int("delivery-requests", 20_000);
            var rounds = args.Int("delivery-rounds", 3);
            Console.WriteLine($"--- delivery cost: one replica drains {requests:N0} requests at-least-once and exactly-once, {rounds} rounds each ---");
            var cost = await DeliveryCost.RunAsync(requests, rounds, Console.WriteLine);
            Console.WriteLine($"at-least-once {cost.AtLeastOnceMedian:N0} requests/s, exactly-once {cost.ExactlyOnceMedian:N0} requests/s (medians): ratio {cost.Ratio:F2} (goal >= 0.67)");
            result.Add("at_least_once_rps", "one replica's drain, at-least-once (median)", cost.AtLeastOnceMedian, "requests/s")
                .Add("exactly_once_rps", "one replica's drain, exactly-once (median)", cost.ExactlyOnceMedian, "requests/s")
                .Add("exactly_once_to_at_least_once", "exactly-once / at-least-once throughput (goal >= 0.67)", cost.Ratio, "x")
                .Note("delivery_requests", requests)
                .Note("delivery_rounds", rounds);
        }
        return result;
    }

    private static void PrintTable(List<FaultRunResult> results)
    {
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-16} {"sent",7} {"predicted",9} {"dlq",5} {"lost",5} {"dup",5} {"dup /metrics",12} {"wrong",5} {"reordered",9} {"longest gap",11} {"http ok",7} {"http failed",11}");
        foreach (var r in results)
        {
            var p = r.Report;
            Console.WriteLine($"{r.Fault.Name,-16} {p.Sent,7} {p.Predicted,9} {p.DeadLettered,5} {p.Lost,5} {p.Duplicated,5} {r.DuplicatesOnMetrics,12} {p.Wrong,5} {p.Reordered,9} " +
                              $"{p.LongestGap.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s",11} {r.HttpAnswered,7} {r.HttpFailures.Count,11}");
        }
        foreach (var problem in results.SelectMany(r => r.Report.Problems.Select(p => $"{r.Fault.Name}: {p}")))
            Console.WriteLine(problem);
    }

    /// <summary>What the model faults add: poisoned requests, HTTP refusals with their codes, the longest HTTP wait, lag and memory.</summary>
    private static void PrintModelFaults(List<FaultRunResult> results)
    {
        foreach (var r in results.Where(r => r.PoisonSent > 0 || r.HttpPoisonRefused.Count > 0 || r.HttpRefused.Count > 0 || r.Backpressure is not null))
        {
            Console.WriteLine($"{r.Fault.Name}: poisoned {r.PoisonSent} on Kafka (dead-lettered {r.Report.DeadLettered}), refused over HTTP {FaultRunResult.Tally(r.HttpPoisonRefused)}; " +
                              $"good requests refused over HTTP: {FaultRunResult.Tally(r.HttpRefused)}; " +
                              $"longest HTTP answer {r.LongestHttpAnswer.TotalSeconds:F2} s" + (r.Backpressure is { } b ? $"; {b}" : ""));
        }
    }

    private static void AddLogCap(BenchResult result, IReadOnlyList<LogCapRun.Outcome> outcomes)
    {
        Console.WriteLine();
        Console.WriteLine($"{"backlog",-12} {"cap check",-9} {"produced",9} {"dropped by broker (requests / all topics)",43} {"read",7} {"predicted",9} {"lost",5} {"wrong",5} {"dup",5}");
        foreach (var o in outcomes)
        {
            var p = o.Report;
            var dropped = $"{p.DroppedByBroker.GetValueOrDefault(o.RequestTopic):N0} / {p.DroppedByBroker.Values.Sum():N0}";
            Console.WriteLine($"{o.CapShare:0.#} x cap{"",-4} {(o.Refusal is null ? "fits" : "refused"),-9} {o.Produced,9} {dropped,43} {p.Sent,7} {p.Predicted,9} {p.Lost,5} {p.Wrong,5} {p.Duplicated,5}");
        }
        result.Add("log_cap_held", "log-cap runs where produced = read + dropped by the broker, 0 lost, 0 wrong, nothing dropped under the cap", outcomes.Count(o => o.Held), "of " + outcomes.Count);
        foreach (var o in outcomes)
        {
            result.Note($"log_cap_{(int)(o.CapShare * 10):D2}", new Dictionary<string, object?>
            {
                ["cap_share"] = o.CapShare, ["refused"] = o.Refusal is not null, ["produced"] = o.Produced, ["read"] = o.Report.Sent,
                ["predicted"] = o.Report.Predicted, ["lost"] = o.Report.Lost, ["wrong"] = o.Report.Wrong, ["duplicated"] = o.Report.Duplicated,
                ["dropped_by_broker"] = o.Report.DroppedByBroker,
            });
        }
    }

    private static BenchResult Result(List<FaultRunResult> results, int rate)
    {
        var result = new BenchResult("faults")
            .Add("scenarios_held", "scenarios with 0 lost, 0 wrong, duplicates = /metrics, HTTP all answered", results.Count(r => r.Held), "of " + results.Count)
            .Add("lost_total", "lost, all scenarios", results.Sum(r => r.Report.Lost), "requests")
            .Add("wrong_total", "wrong, all scenarios", results.Sum(r => r.Report.Wrong), "predictions")
            .Add("duplicates_total", "duplicates found by the checker", results.Sum(r => r.Report.Duplicated), "answers")
            .Add("duplicates_metrics_total", "duplicates counted on /metrics", results.Sum(r => r.DuplicatesOnMetrics), "answers")
            .Note("rate", rate);
        foreach (var r in results)
        {
            var p = r.Report;
            result.Note(r.Fault.Name.Replace('-', '_'), new Dictionary<string, object>
            {
                ["sent"] = p.Sent, ["predicted"] = p.Predicted, ["dead_lettered"] = p.DeadLettered, ["lost"] = p.Lost,
                ["duplicated"] = p.Duplicated, ["duplicates_metrics"] = r.DuplicatesOnMetrics, ["wrong"] = p.Wrong,
                ["reordered"] = p.Reordered, ["longest_gap_s"] = Math.Round(p.LongestGap.TotalSeconds, 3),
                ["http_answered"] = r.HttpAnswered, ["http_failed"] = r.HttpFailures.Count,
                ["poison_sent"] = r.PoisonSent, ["http_poison_refused"] = r.HttpPoisonRefused,
                ["http_refused"] = r.HttpRefused, ["longest_http_answer_s"] = Math.Round(r.LongestHttpAnswer.TotalSeconds, 3),
            });
            if (r.Backpressure is { } b)
            {
                const double MiB = 1024 * 1024;
                result.Note(r.Fault.Name.Replace('-', '_') + "_backpressure", new Dictionary<string, object?>
                {
                    ["lag_before"] = b.LagBefore, ["lag_peak"] = b.LagPeak, ["recovery_s"] = b.Recovery is { } t ? Math.Round(t.TotalSeconds, 2) : null,
                    ["rss_before_mib"] = b.RssBefore / MiB, ["rss_peak_mib"] = b.RssPeak / MiB, ["rss_after_mib"] = b.RssAfter / MiB,
                });
            }
        }
        return result;
    }
}
