using Mlops.Stream.Kafka.Connection;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Kafka;

/// <summary>
/// Ensures the audit topic exists when the node starts. An external Kafka may be unreachable for a
/// while (it starts after us, a network blip), so this retries with backoff instead of failing the
/// node; readiness stays false until it succeeds.
/// </summary>
public sealed class SharedTopicsProvisioningService(
    KafkaEndpoint kafka,
    TopicCatalog catalog,
    SharedTopicsState state,
    ILogger<SharedTopicsProvisioningService> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var provisioner = kafka.CreateProvisioner(logger);
        var topics = new[] { catalog[TopicFamilies.Audit].Declare() };
        var retry = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var report = await provisioner.EnsureAsync(topics, stoppingToken);
                state.Provisioned(report);
                logger.LogInformation(
                    "Shared topics ready on {BootstrapServers}: created [{Created}], existing [{Existing}], mismatched [{Mismatched}]",
                    kafka.BootstrapServers, string.Join(", ", report.Created), string.Join(", ", report.Existing),
                    string.Join(", ", report.Mismatched.Select(m => $"{m.Topic} {m.ActualPartitions}/{m.DeclaredPartitions}")));
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
            {
                state.Failed(e.Message);
                logger.LogWarning("Could not provision shared topics on {BootstrapServers}: {Reason}. Retrying in {Retry}",
                    kafka.BootstrapServers, e.Message, retry);
            }

            try
            {
                await Task.Delay(retry, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetry.Ticks));
        }
    }
}
