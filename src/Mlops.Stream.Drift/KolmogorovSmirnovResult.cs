namespace Mlops.Stream.Drift;

/// <summary>The two-sided two-sample Kolmogorov-Smirnov statistic D and its p-value.</summary>
/// <param name="Statistic">The largest gap between the two empirical CDFs, in [0, 1].</param>
/// <param name="PValue">The asymptotic two-sided p-value, in [0, 1].</param>
/// <param name="ReferenceCount">Finite reference values the test used.</param>
/// <param name="CurrentCount">Finite current values the test used.</param>
public sealed record KolmogorovSmirnovResult(double Statistic, double PValue, int ReferenceCount, int CurrentCount);
