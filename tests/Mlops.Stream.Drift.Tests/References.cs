using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Tests;

/// <summary>Feature references built the way the registry builds them: the profile from the sample.</summary>
internal static class References
{
    /// <summary>A reference with its sample, the profile computed from it.</summary>
    public static FeatureReference Sampled(double[] values, string feature = "x") =>
        new(FeatureProfile.FromValues(feature, values), values);

    /// <summary>A reference known only by its profile, as for a model registered without a sample.</summary>
    public static FeatureReference ProfileOnly(double[] values, string feature = "x") =>
        new(FeatureProfile.FromValues(feature, values));

    /// <summary>python: <c>np.array([float(i % k) for i in range(n)])</c>: k equally common categories.</summary>
    public static double[] Cycle(int k, int n) => Enumerable.Range(0, n).Select(i => (double)(i % k)).ToArray();
}
