using System.Collections.Immutable;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Which models have a production version (and their aliases), cached from the registry so the request path does no
/// registry I/O. Refreshed by the replica keeper every few seconds, and on a miss at most once a
/// second (a model registered a moment ago is found; a flood of unknown names is not a flood of reads).
/// </summary>
public sealed class ServedModels(IModelRegistry registry, TimeProvider? clock = null)
{
    private static readonly TimeSpan MissRefreshInterval = TimeSpan.FromSeconds(1);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private volatile ImmutableDictionary<string, ModelAliases> _served = ImmutableDictionary<string, ModelAliases>.Empty;
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;

    /// <summary>Model name → its aliases, for every model with a production version, as of the last refresh.</summary>
    public IReadOnlyDictionary<string, ModelAliases> Served => _served;

    public async Task<IReadOnlyDictionary<string, ModelAliases>> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var builder = ImmutableDictionary.CreateBuilder<string, ModelAliases>(StringComparer.Ordinal);
            foreach (var model in await registry.ListModelsAsync(cancellationToken).ConfigureAwait(false))
            {
                var aliases = await registry.GetAliasesAsync(model, cancellationToken).ConfigureAwait(false);
                if (aliases.Production is not null) builder[model] = aliases;
            }
            _served = builder.ToImmutable();
            _lastRefresh = _clock.GetUtcNow();
            return _served;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    public async Task<bool> IsServedAsync(string model, CancellationToken cancellationToken = default)
    {
        if (_served.ContainsKey(model)) return true;
        if (_clock.GetUtcNow() - _lastRefresh < MissRefreshInterval) return false;
        return (await RefreshAsync(cancellationToken).ConfigureAwait(false)).ContainsKey(model);
    }
}
