using Mlops.Stream.Bench;
using Mlops.Stream.Bench.Scenarios;
using Mlops.Stream.Bench.Scenarios.Drift;
using Mlops.Stream.Bench.Scenarios.Pipeline;

// Benchmarks: `dotnet run -c Release --project bench/Mlops.Stream.Bench -- <scenario> [options]`.
// Each scenario prints a readable table and, as its last line, one JSON object with every figure.
var scenarios = new Dictionary<string, Func<BenchArgs, Task<BenchResult>>>(StringComparer.OrdinalIgnoreCase)
{
    ["kafka"] = KafkaScenario.RunAsync,
    ["swap"] = SwapScenario.RunAsync,
    ["scale"] = ScaleScenario.RunAsync,
    ["pipeline"] = PipelineScenario.RunAsync,
    ["faults"] = FaultsScenario.RunAsync,
    ["drift"] = DriftScenario.RunAsync,
    ["overload"] = OverloadScenario.RunAsync,
    ["models"] = ModelsScenario.RunAsync,
};

if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var scenario))
{
    Console.Error.WriteLine($"usage: Mlops.Stream.Bench <{string.Join("|", scenarios.Keys)}> [options]\n  kafka: --records N --partitions P --size BYTES --rounds R\n  swap:  --rate REQ_PER_S --seconds S --swap-every S\n  scale: --requests N --warmup N --rate REQ_PER_S --seconds S --kill-after S\n  {PipelineSettings.Usage}\n  faults: --rate REQ_PER_S --only broker-down|rtt-500ms|produce-errors|commit-errors|leader-move|slow-rebalance|swaps-under-faults|poison-inputs|slow-model|scale-replicas|kill-restart|rolling-restart|log-cap|delivery\n  {DriftScenario.Usage}\n  {OverloadScenario.Usage}\n  {ModelsScenario.Usage}");
    return 2;
}

var result = await scenario(BenchArgs.Parse(args.Skip(1).ToArray()));
result.Print(Console.Out);
return 0;
