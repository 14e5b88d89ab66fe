using Mlops.Stream.Actors.Metrics;
using Mlops.Stream.Inference.Gateway;
using Prometheus;

namespace Mlops.Stream.Actors.Tests.Metrics;

public sealed class SampledGaugeTests
{
    [Fact]
    public async Task A_series_not_set_in_the_latest_round_disappears_instead_of_keeping_its_last_value()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var gauge = new SampledGauge(Prometheus.Metrics.WithCustomRegistry(registry).CreateGauge("lag", "help", "partition"));

        gauge.BeginRound();
        gauge.Set(5, "0");
        gauge.Set(7, "1");
        gauge.EndRound();
        var first = await Export(registry);
        Assert.Contains("lag{partition=\"0\"} 5", first);
        Assert.Contains("lag{partition=\"1\"} 7", first);

        // Partition 1 was revoked: the next round sets only partition 0.
        gauge.BeginRound();
        gauge.Set(2, "0");
        gauge.EndRound();
        var second = await Export(registry);
        Assert.Contains("lag{partition=\"0\"} 2", second);
        Assert.DoesNotContain("partition=\"1\"", second);
    }

    [Fact]
    public async Task Two_replicas_of_one_model_on_a_node_report_one_summed_series_and_a_new_round_starts_from_zero()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var gauge = new SampledGauge(Prometheus.Metrics.WithCustomRegistry(registry).CreateGauge("in_flight", "help", "model"));

        gauge.BeginRound();
        gauge.Set(3, "m");
        gauge.Set(4, "m");
        gauge.EndRound();
        Assert.Contains("in_flight{model=\"m\"} 7", await Export(registry));

        gauge.BeginRound();
        gauge.Set(1, "m");
        gauge.EndRound();
        Assert.Contains("in_flight{model=\"m\"} 1", await Export(registry));
    }

    private static async Task<string> Export(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
