using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Demo;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Tests.Drift;

/// <summary>
/// Served events of the demo model, written by the serving pipeline's own encoder: rows drawn from
/// the demo data's hold-out set (the reference profile was built from its training set, so they are
/// reference-like) or shifted by some of each feature's reference standard deviations; and a
/// folder registry holding the demo model as version 1 of a model of the test's naming.
/// </summary>
internal static class DriftEvents
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A registry in <paramref name="folder"/> with the demo model registered as <paramref name="model"/> version 1.</summary>
    public static async Task<FolderModelRegistry> RegistryAsync(TempDirectory folder, string model)
    {
        var registry = new FolderModelRegistry(folder.Path);
        await registry.RegisterVersionAsync(DemoFixture.Model.Registration with { Model = model });
        return registry;
    }

    /// <summary>
    /// The served event of hold-out row <paramref name="row"/> (modulo its size), shifted by
    /// <paramref name="sigmas"/>, with id <c>r-&lt;row&gt;</c>. Its outputs: label 0 only, or, given
    /// <paramref name="fraud"/>, the demo model's "probabilities" (1 - fraud, fraud) and "label" (1 when fraud &gt;= 0.5).
    /// </summary>
    public static byte[] Served(string model, int row, DateTimeOffset servedAt, double sigmas = 0, int version = 1, double? fraud = null)
    {
        var demo = DemoFixture.Model;
        var profile = demo.Registration.ReferenceProfile;
        var values = demo.HoldOut.Row(row % demo.HoldOut.Rows).ToArray();
        for (var f = 0; f < values.Length; f++)
        {
            values[f] += (float)(sigmas * profile[f].StdDev);
        }

        var request = new InferenceRequest($"r-{row}", [Tensor.Create("features", values, 1, values.Length)]);
        Tensor[] outputs = fraud is { } p
            ? [Tensor.Create("probabilities", new[] { (float)(1 - p), (float)p }, 1, 2), Tensor.Create("label", new long[] { p >= 0.5 ? 1 : 0 }, 1)]
            : [Tensor.Create("label", new long[] { 0 }, 1)];
        var result = BatchResult.Served(outputs, model, version,
            new BatchTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), 1, 1));
        return ServingRecords.ServedEvent(model, request, result, new RequestSource("kafka", servedAt, 0, row), servedAt);
    }
}
