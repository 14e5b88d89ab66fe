using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// The reference of each version of one model, read from the registry: the version's manifest
/// (read once and kept) and its reference sample when it has one. A version the registry does not
/// know, or whose manifest cannot be read, is remembered as unknown (the windows report its events
/// as <c>unknown_version</c>) and asked again after <see cref="DriftJobSettings.RetryUnknownVersionAfter"/>,
/// so a version registered after the job started is found. A known version's sample is asked for
/// again after <see cref="DriftJobSettings.RefreshReferenceAfter"/>, so a new baseline
/// (<c>mlops drift baseline</c>) reaches the job; the windows take it from their next window on.
/// Owned by one drift job; survives its stream's restarts.
/// </summary>
public sealed class VersionReferences(
    IModelRegistry registry, string model, TimeSpan retryUnknownAfter, ILogger logger, TimeProvider? clock = null, TimeSpan? refreshAfter = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly TimeSpan _refreshAfter = refreshAfter ?? DriftJobSettings.Default.RefreshReferenceAfter;
    private readonly ConcurrentDictionary<int, Known> _known = new();

    private sealed record Known(ModelManifest? Manifest, ReferenceSample? Sample, VersionReference? Reference, DateTimeOffset ReadAt);

    /// <summary>
    /// Makes sure <paramref name="version"/> has been looked up (and, if unknown, not too long ago;
    /// if known, its sample not too long ago), so <see cref="Get"/> answers without I/O. Never throws
    /// for a bad or missing manifest or sample.
    /// </summary>
    public async Task LoadAsync(int version, CancellationToken cancellationToken = default)
    {
        _known.TryGetValue(version, out var known);
        if (known is not null && _clock.GetUtcNow() - known.ReadAt < (known.Reference is null ? retryUnknownAfter : _refreshAfter))
        {
            return;
        }

        try
        {
            var manifest = known?.Manifest ?? await registry.GetManifestAsync(model, version, cancellationToken).ConfigureAwait(false);
            var sample = await registry.GetReferenceSampleAsync(model, version, cancellationToken).ConfigureAwait(false);
            // The registry hands back the same sample while its file is unchanged: keep the reference then.
            var reference = known?.Reference is { } kept && known.Manifest == manifest && ReferenceEquals(known.Sample, sample)
                ? kept
                : VersionReference.FromManifest(manifest, sample);
            if (known?.Reference is not null && !ReferenceEquals(reference, known.Reference))
            {
                logger.LogInformation("Drift job of {Model}: version {Version} has a new reference ({Source}); its next window is judged against it",
                    model, version, sample is null ? "the manifest's profile" : $"a sample of {sample.Rows} rows");
            }

            _known[version] = new Known(manifest, sample, reference, _clock.GetUtcNow());
        }
        catch (Exception e) when (e is ModelRegistryException or IOException or UnauthorizedAccessException)
        {
            // Logged per lookup (at most once per retry interval): the windows count the events themselves.
            if (known is null)
            {
                logger.LogWarning("Drift job of {Model}: no reference for version {Version}: {Reason}", model, version, e.Message);
            }

            // A version known before keeps its reference while the registry cannot be read.
            _known[version] = known is { Reference: not null } ? known with { ReadAt = _clock.GetUtcNow() } : new Known(null, null, null, _clock.GetUtcNow());
        }
    }

    /// <summary>The reference looked up last for <paramref name="version"/>; null when unknown or never looked up.</summary>
    public VersionReference? Get(int version) => _known.TryGetValue(version, out var known) ? known.Reference : null;
}
