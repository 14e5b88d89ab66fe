namespace Mlops.Stream.Drift;

/// <summary>The statistic a feature's drift verdict rests on.</summary>
public enum DriftMethod
{
    /// <summary>Two-sample Kolmogorov-Smirnov against the reference sample; drift when p &lt; the threshold.</summary>
    KolmogorovSmirnov,

    /// <summary>Wasserstein distance normalised by the reference's standard deviation; drift when above the threshold.</summary>
    Wasserstein,

    /// <summary>PSI over the reference profile's bins; drift when above the threshold.</summary>
    PopulationStabilityIndex,

    /// <summary>Jensen-Shannon distance between the value shares; drift when above the threshold.</summary>
    JensenShannon,
}
