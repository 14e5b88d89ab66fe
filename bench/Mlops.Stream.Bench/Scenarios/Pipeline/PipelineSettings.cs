namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>The pipeline scenario's options (<c>--name value</c>), with defaults that keep a run near 5 minutes on 2 cores (5 alternating rounds: the cores are shared, so medians of several short runs).</summary>
public sealed record PipelineSettings(
    int Requests,
    int? Partitions,
    int Rounds,
    int HttpSeconds,
    int[] Clients,
    int NaiveSeconds,
    int OpenLoopSeconds,
    int[] BatchSizes,
    string? Device,
    int[] TuningClients,
    double ObjectiveMs,
    int[] HeavyClients,
    int HeavyLayers,
    int HeavyWidth,
    string? Only)
{
    public static PipelineSettings From(BenchArgs args) => new(
        Requests: args.Int("requests", 40_000),
        Partitions: args.Int("partitions", 0) is > 0 and var p ? p : null,
        Rounds: args.Int("rounds", 5),
        HttpSeconds: args.Int("seconds", 2),
        Clients: args.Ints("clients", [1, 16, 64, 256]),
        NaiveSeconds: args.Int("naive-seconds", 3),
        OpenLoopSeconds: args.Int("open-seconds", 4),
        BatchSizes: args.Ints("batch-sizes", [1, 8, 32, 64, 128]),
        Device: args.Text("device"),
        TuningClients: args.Ints("tuning-clients", [64, 256]),
        ObjectiveMs: args.Int("objective-ms", 10),
        HeavyClients: args.Ints("heavy-clients", [16, 64]),
        HeavyLayers: args.Int("heavy-layers", 2),
        HeavyWidth: args.Int("heavy-width", 2048),
        Only: args.Text("only"));

    public const string Usage = "pipeline: --requests N --partitions P --rounds R --seconds S (per HTTP run) --clients 1,16,64,256 --naive-seconds S --open-seconds S --batch-sizes 1,8,32,64,128 --device cpu|cuda (node and ONNX Runtime alone; default: the node's auto, CPU for the ceiling) --tuning-clients 64,256 --objective-ms 10 (the batch tuning comparison) --heavy-clients 16,64 --heavy-layers 2 --heavy-width 2048 (HTTP batched against batching off on a model whose run dominates a request) --only tuning|heavy (one of those comparisons alone)";
}
