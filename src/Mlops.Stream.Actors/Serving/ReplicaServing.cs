namespace Mlops.Stream.Actors.Serving;

/// <summary>What a replica has once a version serves: its router and inference path, its swap and canary helpers, and the model's topics.</summary>
internal sealed record ReplicaServing(
    ReplicaRouter Router, ReplicaInference Inference, VersionSwapper Swapper, CanaryController Canary, ModelTopics? Topics)
{
    /// <summary>Stops the batchers (each finishes what it holds) and frees every ONNX session: the replica has stopped.</summary>
    public async Task StopAsync()
    {
        await Router.Production.StopAsync().ConfigureAwait(false);
        Router.Production.Model.Dispose();
        Swapper.Previous?.Dispose();
        await Canary.StopAsync().ConfigureAwait(false);
    }
}
