using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift;

/// <summary>
/// What one feature is compared against: the manifest's profile, always present (PSI and data
/// quality need its edges), and the reference sample when one was uploaded with the model (the
/// exact two-sample tests need it).
/// </summary>
/// <param name="Profile">The version's reference histogram for the feature.</param>
/// <param name="Sample">The reference values, or null when only the profile is known.</param>
public sealed record FeatureReference(FeatureProfile Profile, double[]? Sample = null)
{
    /// <summary>The feature's name, as the profile gives it.</summary>
    public string Feature => Profile.Feature;
}
