using Mlops.Stream.Bench;
using Mlops.Stream.Bench.Scenarios;

// Benchmarks: `dotnet run -c Release --project bench/Mlops.Stream.Bench -- <scenario> [options]`.
// Each scenario prints a readable table and, as its last line, one JSON object with every figure.
var scenarios = new Dictionary<string, Func<BenchArgs, Task<BenchResult>>>(StringComparer.OrdinalIgnoreCase)
{
    ["kafka"] = KafkaScenario.RunAsync,
};

if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var scenario))
{
    Console.Error.WriteLine($"usage: Mlops.Stream.Bench <{string.Join("|", scenarios.Keys)}> [--records N] [--partitions P] [--size BYTES]");
    return 2;
}

var result = await scenario(BenchArgs.Parse(args.Skip(1).ToArray()));
result.Print(Console.Out);
return 0;
