namespace Mlops.Stream.Drift;

/// <summary>Which side of a <see cref="FeatureReference"/> a verdict was computed against.</summary>
public enum ReferenceKind
{
    /// <summary>The raw reference values (exact two-sample statistics).</summary>
    Sample,

    /// <summary>The manifest's quantile-edged histogram (PSI only).</summary>
    Profile,
}
