using System.Collections.Immutable;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Drift.Windows;

/// <summary>
/// What one model version's windows are judged against, and how its inputs lay out its features.
/// Built from the version's manifest so the job needs nothing the registry does not already keep.
/// </summary>
/// <param name="Version">The model version.</param>
/// <param name="Features">One reference per feature, in the order of the manifest's profile; results follow this order.</param>
/// <param name="Columns">
/// The column names of a single [rows, columns] feature input, in column order: the manifest's
/// feature names when they name every profiled feature, else the profile's own order.
/// </param>
public sealed record VersionReference(int Version, ImmutableArray<FeatureReference> Features, ImmutableArray<string> Columns)
{
    /// <summary>The manifest's class labels in probability-column order (empty when it names none): what feedback labels given by name mean.</summary>
    public ImmutableArray<string> ClassLabels { get; init; } = [];

    /// <summary>
    /// The reference of <paramref name="manifest"/>. With a reference <paramref name="sample"/>,
    /// each feature is the sample's column with the profile computed from it, so the exact
    /// two-sample methods apply (<see cref="DriftMethodChoice"/>); the sample's header names the
    /// input's columns. Without one, the manifest's profile, and every feature is judged by PSI. A
    /// manifest without a profile (and no sample) gives a reference with no features, which the
    /// windows report as <c>no_reference</c>.
    /// </summary>
    public static VersionReference FromManifest(ModelManifest manifest, ReferenceSample? sample = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var labels = manifest.Labels.IsDefault ? [] : manifest.Labels;
        if (sample is not null)
        {
            var profile = sample.Profile();
            return new VersionReference(manifest.Version, [.. profile.Select((p, f) => new FeatureReference(p, sample.Columns[f]))], sample.Features)
            {
                ClassLabels = labels,
            };
        }

        var features = manifest.ReferenceProfile.Select(p => new FeatureReference(p)).ToImmutableArray();
        var profiled = manifest.ReferenceProfile.Select(p => p.Feature).ToImmutableArray();
        var columns = !manifest.FeatureNames.IsDefaultOrEmpty && profiled.All(manifest.FeatureNames.Contains) ? manifest.FeatureNames : profiled;
        return new VersionReference(manifest.Version, features, columns) { ClassLabels = labels };
    }
}
