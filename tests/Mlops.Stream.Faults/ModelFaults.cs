using Mlops.Stream.Demo;

namespace Mlops.Stream.Faults;

/// <summary>
/// Issue 14's model faults (scenarios 9 and 10), under the same steady load as the broker faults:
/// a model that throws for some inputs, and a model that becomes ten times slower. The broker is
/// left alone; what changes is the version the node serves, through its admin API.
/// </summary>
public static class ModelFaults
{
    /// <summary>Extra layers of the fast version (<see cref="FaultModels.WithExtraWork"/>); the slow one has ten times as many (its run costs about ten times as much).</summary>
    public const int FastLayers = 40;

    public const int SlowLayers = FastLayers * 10;

    /// <summary>The HTTP deadline (<c>Http:Inference:InferTimeout</c>) of the slow-model node: short, so a slow model meets it.</summary>
    public static readonly TimeSpan HttpDeadline = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan SlowFor = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan PoisonFor = TimeSpan.FromSeconds(6);

    /// <summary>
    /// 10. The model becomes ten times slower: the node serves the demo network with
    /// <see cref="FastLayers"/> extra layers (version 2), version 3 (<see cref="SlowLayers"/>)
    /// is promoted for a while, then version 2 again. While the slow version serves, HTTP calls must
    /// be answered in time, served or refused with a code (504 past the deadline, 429 with a full
    /// queue, 503), and Kafka must back up as lag, not as memory; when it is fast again the lag must
    /// drain.
    /// </summary>
    public static readonly BrokerFault SlowModel = new("slow-model",
        $"the served version swapped for one 10x as costly ({SlowLayers} instead of {FastLayers} extra layers) for {SlowFor.TotalSeconds:F0} s, then back",
        (_, _, _) => Task.CompletedTask)
    {
        PrepareAsync = async (target, stop) =>
        {
            var demo = DemoModelBuilder.Build(target.Model).OnnxModel;
            await ModelSwaps.RegisterAsync(target, FaultModels.WithExtraWork(demo, FastLayers), stop).ConfigureAwait(false);
            await ModelSwaps.RegisterAsync(target, FaultModels.WithExtraWork(demo, SlowLayers), stop).ConfigureAwait(false);
            await ModelSwaps.PromoteAndWaitAsync(target, 2, stop).ConfigureAwait(false);
        },
        OnNodeAsync = async (target, stop) =>
        {
            await ModelSwaps.PromoteAndWaitAsync(target, 3, stop).ConfigureAwait(false);
            await Task.Delay(SlowFor, stop).ConfigureAwait(false);
            await ModelSwaps.PromoteAndWaitAsync(target, 2, stop).ConfigureAwait(false);
        },
        NodeArguments = [$"--Http:Inference:InferTimeout={HttpDeadline:c}"],
        Load = new LoadShape(Refusals: new HashSet<int> { 429, 503, 504 }),
        AwaitsRecovery = true,
    };

    /// <summary>
    /// 9. A model whose run throws for some inputs: the node serves a version that fails for a first
    /// feature out of its range, and every 25th request (Kafka and HTTP) has one. A batch holding one
    /// fails as a whole; the batcher runs its requests again one by one, so only the poisoned request
    /// fails: a dead letter on Kafka, a 500 <c>model_failed</c> over HTTP. Everything else is predicted.
    /// </summary>
    public static readonly BrokerFault PoisonInputs = new("poison-inputs",
        $"the served version throws for a first feature >= {FaultModels.PoisonFirstFeature:F0} (Gather out of range); every 25th request has one, for {PoisonFor.TotalSeconds:F0} s",
        async (_, _, stop) => await Task.Delay(PoisonFor, stop).ConfigureAwait(false))
    {
        PrepareAsync = async (target, stop) =>
        {
            var demo = DemoModelBuilder.Build(target.Model).OnnxModel;
            await ModelSwaps.RegisterAsync(target, FaultModels.FailingForLargeFirstFeature(demo), stop).ConfigureAwait(false);
            await ModelSwaps.PromoteAndWaitAsync(target, 2, stop).ConfigureAwait(false);
        },
        Load = new LoadShape(PoisonEvery: 25),
    };

    public static IReadOnlyList<BrokerFault> All { get; } = [PoisonInputs, SlowModel];
}
