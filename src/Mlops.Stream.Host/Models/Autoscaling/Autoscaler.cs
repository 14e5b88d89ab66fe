using Akka.Hosting;
using Microsoft.Extensions.Options;
using Mlops.Stream.Actors.Placement;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;
using Mlops.Stream.Kafka.Topics;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Lifecycle;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Host.Models.Autoscaling;

/// <summary>
/// Scales the models an operator scaled with min and max (<c>mlops models scale --min --max</c>):
/// every <see cref="AutoscaleOptions.Interval"/> it reads the serving group's lag on the request
/// topic from the broker (as KEDA's Kafka scaler does, so it does not depend on busy replicas
/// answering) and the replicas' batcher queue depths, and lets the model's
/// <see cref="AutoscalePolicy"/> decide. A
/// decision is written to the registry's scale (which every node's replica keeper applies) and
/// audited. Runs on every node but decides only on the oldest, so a cluster decides once.
/// </summary>
public sealed class Autoscaler(
    IServiceProvider services, IRequiredActor<ModelReplica> replicaRegion, IModelRegistry registry, ModelAdministration admin, ServedModels served,
    ITopicInspector topics, TopicCatalog catalog, NodeLiveness liveness, IOptions<ServingOptions> options, ILogger<Autoscaler> logger,
    TimeProvider? clock = null) : BackgroundService
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly AutoscaleOptions _options = options.Value.Autoscale;
    private readonly Dictionary<string, AutoscalePolicy> _policies = new(StringComparer.Ordinal);

    private IInferenceGateway? _gateway;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The gateway needs the replicas' shard region, which the actor system registers after hosted services are built.
        await replicaRegion.GetAsync(stoppingToken);
        _gateway = services.GetRequiredService<IInferenceGateway>();
        using var timer = new PeriodicTimer(_options.Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!liveness.IsOldest)
            {
                // Another node decides; should this one become the oldest, its windows start afresh.
                _policies.Clear();
                continue;
            }
            foreach (var model in served.Served.Keys)
            {
                try
                {
                    await ScaleAsync(model, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not autoscale model {Model}; trying again in {Interval}", model, _options.Interval);
                }
            }
        }
    }

    private async Task ScaleAsync(string model, CancellationToken cancellationToken)
    {
        if (await registry.GetScaleAsync(model, cancellationToken) is not { Autoscaled: true, Min: { } min, Max: { } max } scale)
        {
            _policies.Remove(model);
            return;
        }
        var requests = await topics.DescribeAsync(ModelTopics.For(catalog, model).Requests, cancellationToken);
        var lag = requests?.Groups.FirstOrDefault(g => g.Group == ModelTopics.ConsumerGroup(model))?.Lag ?? 0;
        var replicas = await _gateway!.ListReplicasAsync(model, cancellationToken) ?? [];
        var backlog = lag + replicas.Sum(r => r.QueueDepth ?? 0);
        // More consumers than partitions add no Kafka capacity; without the topic the bound is the model's max alone.
        var partitions = requests?.Partitions.Count ?? 0;
        var upperBound = partitions > 0 ? Math.Min(max, Math.Max(partitions, min)) : max;
        var policy = _policies.TryGetValue(model, out var existing) ? existing : _policies[model] = new AutoscalePolicy(_options.ToSettings());
        if (policy.Observe(_clock.GetUtcNow(), backlog / Math.Max(1, scale.Replicas), scale.Replicas, min, upperBound) is not var (to, reason))
            return;
        logger.LogInformation("Autoscaling {Model} from {From} to {To} replica(s): {Reason}", model, scale.Replicas, to, reason);
        await admin.AutoscaleAsync(model, to, reason, cancellationToken);
    }
}
