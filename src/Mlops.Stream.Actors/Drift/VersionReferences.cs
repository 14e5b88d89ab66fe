using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// The reference of each version of one model, read from the version's manifest in the registry
/// once and kept. A version the registry does not know, or whose manifest cannot be read, is
/// remembered as unknown (the windows report its events as <c>unknown_version</c>) and asked again
/// after <see cref="DriftJobSettings.RetryUnknownVersionAfter"/>, so a version registered after the
/// job started is found. Owned by one drift job; survives its stream's restarts.
/// </summary>
public sealed class VersionReferences(IModelRegistry registry, string model, TimeSpan retryUnknownAfter, ILogger logger, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<int, (VersionReference? Reference, DateTimeOffset ReadAt)> _known = new();

    /// <summary>
    /// Makes sure <paramref name="version"/> has been looked up (and, if unknown, not too long ago),
    /// so <see cref="Get"/> answers without I/O. Never throws for a bad or missing manifest.
    /// </summary>
    public async Task LoadAsync(int version, CancellationToken cancellationToken = default)
    {
        if (_known.TryGetValue(version, out var known) && (known.Reference is not null || _clock.GetUtcNow() - known.ReadAt < retryUnknownAfter))
        {
            return;
        }

        VersionReference? reference = null;
        try
        {
            reference = VersionReference.FromManifest(await registry.GetManifestAsync(model, version, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is ModelRegistryException or IOException or UnauthorizedAccessException)
        {
            // Logged per lookup (at most once per retry interval): the windows count the events themselves.
            if (!_known.ContainsKey(version))
            {
                logger.LogWarning("Drift job of {Model}: no reference for version {Version}: {Reason}", model, version, e.Message);
            }
        }

        _known[version] = (reference, _clock.GetUtcNow());
    }

    /// <summary>The reference looked up last for <paramref name="version"/>; null when unknown or never looked up.</summary>
    public VersionReference? Get(int version) => _known.TryGetValue(version, out var known) ? known.Reference : null;
}
