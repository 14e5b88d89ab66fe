using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Kafka;

namespace Mlops.Stream.Host.Tests;

public sealed class KafkaClientsCheckTests
{
    [Fact]
    public async Task A_client_reporting_the_broker_unreachable_degrades_readiness_until_it_recovers()
    {
        var monitor = new KafkaHealthMonitor();
        var check = new KafkaClientsCheck(monitor);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        monitor.ReportError("consumer:mlops-serve.fraud", new Error(ErrorCode.Local_AllBrokersDown, "1/1 brokers are down"));
        var down = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, down.Status);
        Assert.Contains("consumer:mlops-serve.fraud", down.Description);
        Assert.Contains("brokers are down", down.Description);

        monitor.ReportReachable("consumer:mlops-serve.fraud");
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Errors_that_do_not_mean_unreachable_do_not_mark_an_outage()
    {
        var monitor = new KafkaHealthMonitor();
        monitor.ReportError("producer", new Error(ErrorCode.MsgSizeTooLarge, "too large"));
        Assert.True(monitor.IsReachable);
        Assert.Equal(HealthStatus.Healthy, (await new KafkaClientsCheck(monitor).CheckHealthAsync(new HealthCheckContext())).Status);
    }
}
