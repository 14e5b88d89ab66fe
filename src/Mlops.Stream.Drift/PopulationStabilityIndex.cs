using Mlops.Stream.Drift.Internal;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift;

/// <summary>
/// PSI of a window against a reference profile's bins: the sum over bins of (c - r) * ln(c / r),
/// c and r the current and reference shares, each clipped to at least <see cref="MinShare"/> so an
/// empty bin on either side gives a large but finite term. Values outside the reference edges
/// count in the first or last bin (<see cref="FeatureProfile.BinOf"/>).
/// </summary>
public static class PopulationStabilityIndex
{
    /// <summary>The floor for a bin's share; the definition other tools (Evidently, NannyML) agree on.</summary>
    public const double MinShare = 1e-4;

    /// <summary>
    /// PSI of the finite values of <paramref name="current"/>; NaN when the window has no finite
    /// value (there is nothing to compare, which is not the same as no drift).
    /// </summary>
    public static double Compute(FeatureProfile reference, ReadOnlySpan<double> current) =>
        Compute(reference, BinCounts.Of(reference, current));

    /// <summary>PSI of a window already counted in <paramref name="reference"/>'s bins; NaN when it counted nothing.</summary>
    public static double Compute(FeatureProfile reference, BinCounts current)
    {
        var currentCounts = current.Counts;
        if (currentCounts.Length != reference.Counts.Length)
        {
            throw new ArgumentException($"{currentCounts.Length} bin counts for a profile of {reference.Counts.Length} bins", nameof(current));
        }

        var finite = current.Total;
        if (finite == 0)
        {
            return double.NaN;
        }

        long referenceTotal = 0;
        foreach (var c in reference.Counts)
        {
            referenceTotal += c;
        }

        double psi = 0;
        for (var bin = 0; bin < currentCounts.Length; bin++)
        {
            var c = Math.Max((double)currentCounts[bin] / finite, MinShare);
            var r = Math.Max((double)reference.Counts[bin] / referenceTotal, MinShare);
            psi += (c - r) * Math.Log(c / r);
        }

        return psi;
    }
}
