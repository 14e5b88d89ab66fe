using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Tests;

/// <summary>
/// Deterministic samples, each a formula written the same way in C# and in the python that
/// produced the expected numbers (so both sides see bit-identical inputs).
/// </summary>
internal static class Samples
{
    /// <summary>python: <c>np.array([((i*37) % 101)/10.0 for i in range(1000)])</c>; 0.0 to 10.0.</summary>
    public static double[] Reference { get; } = Enumerable.Range(0, 1000).Select(i => (i * 37 % 101) / 10.0).ToArray();

    /// <summary>The manifest profile of <see cref="Reference"/>: ten bins with edges 0.0, 1.0, ..., 10.0.</summary>
    public static FeatureProfile ReferenceProfile { get; } = FeatureProfile.FromValues("x", Reference);

    /// <summary>python: <c>np.array([((i*53) % 97)/10.0 + 0.5 for i in range(300)])</c>.</summary>
    public static double[] Shifted { get; } = Enumerable.Range(0, 300).Select(i => (i * 53 % 97 / 10.0) + 0.5).ToArray();

    /// <summary>python: <c>np.array([((i*53) % 97)/10.0 + 1.5 for i in range(300)])</c>.</summary>
    public static double[] ShiftedFar { get; } = Enumerable.Range(0, 300).Select(i => (i * 53 % 97 / 10.0) + 1.5).ToArray();

    /// <summary>python: <c>np.array([((i*41) % 101)/10.0 for i in range(300)])</c>: drawn like the reference.</summary>
    public static double[] Alike { get; } = Enumerable.Range(0, 300).Select(i => (i * 41 % 101) / 10.0).ToArray();

    /// <summary>python: <c>np.array([((i*7919) % 10007)/1000.0 for i in range(20000)])</c>.</summary>
    public static double[] LargeReference { get; } = Enumerable.Range(0, 20000).Select(i => (i * 7919 % 10007) / 1000.0).ToArray();

    /// <summary>python: <c>np.array([((i*104729) % 10007)/1000.0*1.05 for i in range(1000)])</c>: stretched by 5%.</summary>
    public static double[] StretchedWindow { get; } = Enumerable.Range(0, 1000).Select(i => (long)i * 104729 % 10007 / 1000.0 * 1.05).ToArray();

    /// <summary>python: <c>np.array([float(i % 4) for i in range(400)])</c>: four equally common categories.</summary>
    public static double[] Categories { get; } = Enumerable.Range(0, 400).Select(i => (double)(i % 4)).ToArray();

    /// <summary>The values with NaN and infinities spliced in at fixed places.</summary>
    public static double[] WithNonFinite(double[] values)
    {
        var spliced = values.ToList();
        spliced.Insert(0, double.NaN);
        spliced.Insert(spliced.Count / 2, double.PositiveInfinity);
        spliced.Insert(spliced.Count / 3, double.NegativeInfinity);
        spliced.Add(double.NaN);
        return [.. spliced];
    }
}
