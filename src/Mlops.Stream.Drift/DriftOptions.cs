using System.Collections.Immutable;

namespace Mlops.Stream.Drift;

/// <summary>
/// A model's drift settings: which method a feature uses when the automatic choice
/// (<see cref="DriftMethodChoice"/>) should not decide, and each method's threshold. Immutable; copy
/// with <c>with</c>. A threshold out of its range is refused when set, naming the property.
/// </summary>
public sealed record DriftOptions
{
    /// <summary>The defaults: Evidently's thresholds and a 0.5 share for dataset drift.</summary>
    public static DriftOptions Default { get; } = new();

    /// <summary>
    /// Per-feature method overrides, by feature name. Honoured when the feature has a reference
    /// sample; with only a profile every feature uses PSI, the one method a histogram supports.
    /// </summary>
    public ImmutableDictionary<string, DriftMethod> Methods { get; init; } = ImmutableDictionary<string, DriftMethod>.Empty;

    /// <summary>Drift when the KS p-value is below this (default 0.05, Evidently's). In (0, 1).</summary>
    public double KolmogorovSmirnovPValue { get; init => field = Probability(value, nameof(KolmogorovSmirnovPValue)); } = 0.05;

    /// <summary>Drift when the normalised Wasserstein distance is above this (default 0.1, Evidently's).</summary>
    public double WassersteinDistance { get; init => field = Distance(value, nameof(WassersteinDistance)); } = 0.1;

    /// <summary>Drift when the Jensen-Shannon distance is above this (default 0.1, Evidently's).</summary>
    public double JensenShannonDistance { get; init => field = Distance(value, nameof(JensenShannonDistance)); } = 0.1;

    /// <summary>
    /// Drift when PSI is above this. Default 0.1: Evidently's PSI threshold, and the lower edge of
    /// the conventional "moderate shift" band (0.1 to 0.2), so a profile-only feature alerts as early
    /// as the sample-based distances do; set 0.2 ("significant shift") for fewer, later alerts.
    /// </summary>
    public double PopulationStabilityIndex { get; init => field = Distance(value, nameof(PopulationStabilityIndex)); } = 0.1;

    /// <summary>The dataset drifts when the share of drifted features reaches this (default 0.5). In (0, 1].</summary>
    public double DatasetDriftShare { get; init => field = Share(value, nameof(DatasetDriftShare)); } = 0.5;

    /// <summary>The threshold <paramref name="method"/>'s verdict compares against.</summary>
    public double ThresholdFor(DriftMethod method) => method switch
    {
        DriftMethod.KolmogorovSmirnov => KolmogorovSmirnovPValue,
        DriftMethod.Wasserstein => WassersteinDistance,
        DriftMethod.PopulationStabilityIndex => PopulationStabilityIndex,
        DriftMethod.JensenShannon => JensenShannonDistance,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown drift method"),
    };

    private static double Probability(double value, string name) =>
        value is > 0 and < 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in (0, 1)");

    private static double Distance(double value, string name) =>
        double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and at least 0");

    private static double Share(double value, string name) =>
        value is > 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in (0, 1]");
}
