using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>
/// The served event is a contract between the serving pipeline, which writes it, and the drift job,
/// which reads it: what one writes, the other reads back unchanged, non-finite values included.
/// </summary>
public sealed class ServedEventContractTests
{
    [Fact]
    public void The_drift_jobs_reader_reads_what_the_serving_pipeline_writes()
    {
        float[] features = [0.25f, float.NaN, -3.5f, float.PositiveInfinity, 1e-3f, 7f];
        var request = new InferenceRequest("tx-42", [Tensor.Create("features", features, 2, 3)]);
        var result = BatchResult.Served([Tensor.Create("label", new long[] { 0, 1 }, 2)], "fraud-demo", 3,
            new BatchTimings(TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(1), 4, 8));
        var servedAt = new DateTimeOffset(2026, 12, 2, 12, 30, 15, 250, TimeSpan.Zero);
        var bytes = ServingRecords.ServedEvent("fraud-demo", request, result, new RequestSource("kafka", servedAt.AddSeconds(-1), 5, 1234), servedAt);

        Assert.True(ServedEventReader.TryRead(bytes, partition: 2, offset: 77, out var served, out var failure), failure?.ToString());

        Assert.Equal(("tx-42", "fraud-demo", 3, servedAt, 2, 77L), (served.Id, served.Model, served.Version, served.ServedAt, served.Partition, served.Offset));
        var input = Assert.Single(served.Inputs);
        Assert.Equal("features", input.Name);
        Assert.Equal([2L, 3L], input.Shape.ToArray());
        Assert.Equal(features.Select(f => (double)f), input.Values);
    }
}
