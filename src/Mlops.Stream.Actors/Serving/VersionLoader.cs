using System.Diagnostics;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;
using Confluent.Kafka;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Actors.Serving;

/// <summary>Which of a replica's versions a load is for.</summary>
internal enum VersionSlot { Production, Canary }

/// <summary>
/// A version loaded and warmed, ready to serve (sent to the replica actor that asked for it).
/// <paramref name="Topics"/> names the model's topics when the node has Kafka; <paramref name="TopicsProblem"/>
/// says why they could not be made sure of yet (Kafka did not answer), which does not stop the version serving HTTP.
/// </summary>
internal sealed record VersionPrepared(VersionSlot Slot, int Version, IInferenceModel Model, ModelManifest Manifest, ModelTopics? Topics,
    string? TopicsProblem = null)
{
    /// <summary>Loaded under a reservation of the node's model cache (a production load), not beside a loaded version (swap, canary).</summary>
    public bool Admitted { get; init; }

    /// <summary>What the session counts in the node's memory budget (<see cref="ModelCache.EstimateBytes"/>).</summary>
    public long Bytes { get; init; }

    /// <summary>Loaded beside the serving version under the budget: the replica held a request in flight for the load and ends it on taking this.</summary>
    public bool Beside { get; init; }
}

/// <summary>
/// The production version passed the registry's checks, but the node's memory budget has no room to
/// load it now without evicting another model: the replica stays unloaded until its first request.
/// </summary>
internal sealed record VersionLeftUnloaded(int Version, ModelSignature Signature, ModelTopics? Topics);

/// <summary>
/// How a production load deals with the node's model cache: <see cref="IfRoom"/> (a replica starting:
/// load only when the budget has room now, else <see cref="VersionLeftUnloaded"/>) or <see cref="Cold"/>
/// (a request is waiting: evict idle models and wait for room, up to <see cref="ServingContext.ColdLoadWait"/>), or
/// <see cref="Beside"/> (a swap's new version or a canary, loaded beside the serving one: its bytes are added to the
/// model's reservation, waiting for room as a cold load does).
/// </summary>
internal enum CacheAdmission { IfRoom, Cold, Beside }

/// <summary>A version that failed a step of its load; it never serves.</summary>
internal sealed record VersionPrepareFailed(VersionSlot Slot, int Version, Exception Cause)
{
    /// <summary>A production load that went through the node's model cache (see <see cref="VersionPrepared.Admitted"/>).</summary>
    public bool Admitted { get; init; }

    /// <summary>See <see cref="VersionPrepared.Beside"/>.</summary>
    public bool Beside { get; init; }
}

/// <summary>
/// Loads versions of one model for its replica: opens the version in the registry (which checks
/// its sha256 and manifest), checks its signature against the serving contract, creates the
/// model's topics when asked (a Kafka that does not answer is reported, not a failure: the version
/// serves HTTP without it), loads it into ONNX Runtime and warms it. Runs off the actor's thread
/// and touches no actor state; the outcome comes back to the actor as a message.
/// </summary>
/// <param name="budget">The replica's place in the node's model cache: every session it loads is counted there.</param>
internal sealed class VersionLoader(string model, ServingContext context, ModelCacheEntry budget)
{
    /// <summary>The model's topics once made sure of: a cold start after an eviction does not ask Kafka again.</summary>
    private volatile ModelTopics? _provisioned;

    /// <summary>
    /// Loads <paramref name="version"/> beside the serving one (a swap or a canary), its memory reserved in the node's
    /// budget, and tells <paramref name="replica"/> <see cref="VersionPrepared"/> or <see cref="VersionPrepareFailed"/>,
    /// both marked <see cref="VersionPrepared.Beside"/>. Called on the replica's thread: the model counts a request in
    /// flight from now on, so the budget does not evict it under the load; the replica ends it when the outcome arrives.
    /// </summary>
    public void PrepareBeside(VersionSlot slot, int version, ModelSignature? expected, IActorRef replica)
    {
        budget.Enter();
        PrepareAsync(slot, version, expected, withTopics: false, CacheAdmission.Beside).PipeTo(replica);
    }

    /// <summary>
    /// Finds the production version in the registry (unless a target is already known), then prepares
    /// it within the node's memory budget (see <see cref="CacheAdmission"/>).
    /// </summary>
    public void PrepareProduction(int? target, IActorRef replica, CacheAdmission admission) =>
        PrepareProductionAsync(target, admission).PipeTo(replica);

    private async Task<object> PrepareProductionAsync(int? target, CacheAdmission admission)
    {
        int version;
        try
        {
            version = await ProductionVersionAsync(target).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return new VersionPrepareFailed(VersionSlot.Production, target ?? 0, e) { Admitted = true };
        }
        return await PrepareAsync(VersionSlot.Production, version, expected: null, withTopics: true, admission).ConfigureAwait(false);
    }

    /// <summary>A batcher for a prepared version, reporting every batch to the metrics.</summary>
    public DynamicBatcher NewBatcher(VersionPrepared prepared) =>
        new(prepared.Model, BatchingSettings.FromManifest(prepared.Manifest),
            logger: context.LoggerFactory.CreateLogger<DynamicBatcher>(),
            onBatch: report => context.Metrics.ObserveBatch(model, report));

    private async Task<int> ProductionVersionAsync(int? target) =>
        target ?? (await context.Registry.GetAliasesAsync(model).ConfigureAwait(false)).Production
        ?? throw new InvalidOperationException($"Model '{model}' has no production alias in the registry.");

    /// <summary>Opens, checks, reserves memory for (see <see cref="CacheAdmission"/>), loads and warms <paramref name="version"/>.</summary>
    private async Task<object> PrepareAsync(VersionSlot slot, int version, ModelSignature? expected, bool withTopics, CacheAdmission admission)
    {
        var beside = admission == CacheAdmission.Beside;
        try
        {
            var loading = Stopwatch.StartNew();
            var artifacts = await context.Registry.OpenVersionAsync(model, version).ConfigureAwait(false);
            if (expected is not null && expected.Differences(artifacts.Manifest.Signature) is { Count: > 0 } differences)
                throw new InvalidOperationException(
                    $"Version {version} of '{model}' is not compatible with the serving version: {string.Join("; ", differences)}.");

            var (topics, topicsProblem) = withTopics ? await TryProvisionTopicsAsync().ConfigureAwait(false) : (null, null);
            var bytes = ModelCache.EstimateBytes(artifacts.ModelBytes.Length);
            if (admission == CacheAdmission.IfRoom && !budget.TryReserveNow(bytes)) return new VersionLeftUnloaded(version, artifacts.Manifest.Signature, topics);
            if (admission == CacheAdmission.Cold) await ReserveAsync(wait => budget.ReserveAsync(bytes, wait)).ConfigureAwait(false);
            if (beside) await ReserveAsync(wait => budget.ReserveBesideAsync(bytes, wait)).ConfigureAwait(false);
            IInferenceModel loaded;
            try
            {
                loaded = await Task.Run(() => LoadAndWarm(artifacts, version, loading)).ConfigureAwait(false);
            }
            catch
            {
                if (beside) budget.ReleaseSession(bytes);
                else budget.Released();
                throw;
            }
            // The replica marks a production load loaded when it takes the version: only then may the cache evict it.
            return new VersionPrepared(slot, version, loaded, artifacts.Manifest, topics, topicsProblem) { Admitted = !beside, Beside = beside, Bytes = bytes };
        }
        catch (Exception e)
        {
            return new VersionPrepareFailed(slot, version, e is AggregateException a ? a.GetBaseException() : e) { Admitted = !beside, Beside = beside };
        }
    }

    /// <summary>Waits for room in the budget; busy models that stay busy past <see cref="ServingContext.ColdLoadWait"/> are a refusal.</summary>
    private async Task ReserveAsync(Func<CancellationToken, Task> reserve)
    {
        using var wait = new CancellationTokenSource(context.ColdLoadWait);
        try
        {
            await reserve(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            throw new ModelCacheRefusal(ModelCacheRefusal.Kind.Busy,
                $"Model '{model}' waited {context.ColdLoadWait.TotalSeconds:0.#} s for room in the node's memory budget: the loaded models stayed busy; try again.");
        }
    }

    private IInferenceModel LoadAndWarm(ModelArtifacts artifacts, int version, Stopwatch loading)
    {
        var loaded = OnnxModel.Load(artifacts, context.OnnxOptions, context.LoggerFactory.CreateLogger<OnnxModel>());
        try
        {
            var loadTime = loading.Elapsed;
            var warming = Stopwatch.StartNew();
            loaded.WarmUp();
            context.Metrics.ObserveLoad(model, version, loadTime, warming.Elapsed);
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>The model's topics made sure of, or their names and why not (Kafka does not answer); null without Kafka.</summary>
    private async Task<(ModelTopics? Topics, string? Problem)> TryProvisionTopicsAsync()
    {
        if (context.Kafka is null || context.Endpoint is null) return (null, null);
        if (_provisioned is { } provisioned) return (provisioned, null);
        try
        {
            return (_provisioned = await ProvisionTopicsAsync().ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is InvalidOperationException or KafkaException)
        {
            return (ModelTopics.For(context.Topics, model), e.Message);
        }
    }

    /// <summary>Creates the model's topics that are missing (bounded by the provisioner's metadata timeout); throws when Kafka does not answer.</summary>
    public async Task<ModelTopics> ProvisionTopicsAsync()
    {
        var endpoint = context.Endpoint ?? throw new InvalidOperationException("the node has no Kafka");
        var provisioner = endpoint.CreateProvisioner(context.LoggerFactory.CreateLogger<TopicProvisioner>());
        await provisioner.EnsureAsync(context.Topics.DeclareForModel(model)).ConfigureAwait(false);
        return ModelTopics.For(context.Topics, model);
    }
}
