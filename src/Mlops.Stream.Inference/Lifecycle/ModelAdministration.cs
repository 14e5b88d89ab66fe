using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Inference.Lifecycle;

/// <summary>What an admin change came to: the state it left, or why it was refused.</summary>
public abstract record AdminResult
{
    private AdminResult() { }

    /// <summary>Done (or already so: every change is idempotent). <paramref name="Changed"/> says whether anything moved.</summary>
    public sealed record Done(string Model, ModelAliases Aliases, bool Changed, int? Version = null) : AdminResult;

    public sealed record NotFound(string Message) : AdminResult;

    /// <summary>The model's replica count is now <paramref name="Scale"/> (null: one per node).</summary>
    public sealed record Scaled(string Model, ModelScale? Scale, bool Changed) : AdminResult;

    /// <summary>
    /// The request contradicts the model's state (e.g. rollback with nothing to roll back to, a
    /// version whose signature differs from production's); <paramref name="Code"/> is one of <see cref="AdminErrorCodes"/>.
    /// </summary>
    public sealed record Conflict(string Message, string Code = AdminErrorCodes.Conflict) : AdminResult;

    /// <summary>The input is invalid (a model that does not load, a weight out of range, a bad name); <paramref name="Code"/> is one of <see cref="AdminErrorCodes"/>.</summary>
    public sealed record Invalid(string Message, string Code = AdminErrorCodes.InvalidModel) : AdminResult;
}

/// <summary>
/// The lifecycle operations behind the admin API and the CLI, as changes of the registry's
/// aliases (which the replicas follow) plus an audit event for each. Aliases used:
/// <c>production</c>, <c>canary</c> (with weight), <c>previous</c> (the production version before the
/// last promotion, target of a rollback) and <c>undeployed</c> (the production version while a model
/// is undeployed). A version is checked before an alias points at it (see <see cref="VersionGate"/>),
/// and a new model's name before its first version is stored.
/// </summary>
/// <param name="topics">Whether a new model's topics would collide with existing models'; the Kafka side implements it. Null skips that check.</param>
/// <param name="maxUploadBytes">The largest model <see cref="ReceiveUploadAsync"/> takes (the node passes <c>Registry:MaxUploadBytes</c>); no cap when not given.</param>
public sealed class ModelAdministration(
    IModelRegistry registry,
    IAuditLog audit,
    TimeProvider? clock = null,
    IRollbackCounter? metrics = null,
    IModelTopicCheck? topics = null,
    long maxUploadBytes = long.MaxValue)
{
    public const string PreviousAlias = "previous";
    public const string UndeployedAlias = "undeployed";

    /// <summary>
    /// Present while an operator has pinned the model: no node's model cache evicts it. It names the
    /// production version at the time of pinning, for the record; any version of a pinned model is pinned.
    /// </summary>
    public const string PinnedAlias = "pinned";

    /// <summary>Names a production version whose signature differs from the one before: the operator forced it.</summary>
    public const string BreakingAlias = "breaking";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly VersionGate _gate = new(registry);
    private readonly ModelNameGate _names = new(registry, topics);

    /// <summary>The largest model an upload may hold.</summary>
    public long MaxUploadBytes => maxUploadBytes;

    /// <summary>
    /// Refuses (and audits) a registration under <paramref name="model"/> when the name may not take a
    /// version (see <see cref="ModelNameGate"/>); null when it may. Cheap: call it before receiving
    /// an upload, so a refused name costs no transfer.
    /// </summary>
    public async Task<AdminResult?> CheckRegistrationAsync(string model, string actor, CancellationToken ct) =>
        await _names.CheckAsync(model, ct).ConfigureAwait(false) is { } refusal
            ? await Audited(actor, "register", model, null, refusal).ConfigureAwait(false)
            : null;

    /// <summary>
    /// Receives a model for <see cref="RegisterAsync(string, ModelUpload, ModelRegistration?, string, CancellationToken)"/>
    /// into a temporary file of the registry, never into memory.
    /// </summary>
    /// <exception cref="ModelRegistryException"><see cref="ModelRegistryError.TooLarge"/> past <see cref="MaxUploadBytes"/>; nothing is left behind.</exception>
    public Task<ModelUpload> ReceiveUploadAsync(System.IO.Stream content, CancellationToken ct) =>
        registry.ReceiveUploadAsync(content, maxUploadBytes, ct);

    /// <summary>Registers a version from ONNX bytes and an optional manifest (JSON: feature_names, labels, batching, sample request…).</summary>
    public async Task<AdminResult> RegisterAsync(string model, byte[] onnx, ModelRegistration? declared, string actor, CancellationToken ct)
    {
        // The bytes are in memory already: the upload cap is for streams that are not, and the name is
        // checked once, by the upload overload.
        using var upload = await registry.ReceiveUploadAsync(new MemoryStream(onnx, writable: false), long.MaxValue, ct).ConfigureAwait(false);
        return await RegisterAsync(model, upload, declared, actor, ct).ConfigureAwait(false);
    }

    /// <summary>Registers a version from a received upload (moved into the registry) and an optional manifest.</summary>
    public async Task<AdminResult> RegisterAsync(string model, ModelUpload upload, ModelRegistration? declared, string actor, CancellationToken ct)
    {
        if (await CheckRegistrationAsync(model, actor, ct).ConfigureAwait(false) is { } refused) return refused;
        try
        {
            var registration = (declared ?? new ModelRegistration(model, ReadOnlyMemory<byte>.Empty)) with { Model = model };
            var manifest = await registry.RegisterVersionAsync(registration, upload, ct).ConfigureAwait(false);
            var aliases = await registry.GetAliasesAsync(model, ct).ConfigureAwait(false);
            return await Audited(actor, "register", model, manifest.Version, new AdminResult.Done(model, aliases, true, manifest.Version),
                $"sha256 {manifest.Sha256}").ConfigureAwait(false);
        }
        catch (ModelRegistryException e)
        {
            return await Audited(actor, "register", model, declared?.Version, new AdminResult.Invalid(e.Message)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes <paramref name="version"/> production; the old production becomes <c>previous</c>; a canary of
    /// that version is cleared. Refused before the alias moves when the version fails its checksum or
    /// manifest, or when its inputs or outputs differ from production's and <paramref name="force"/>
    /// does not declare the breaking change.
    /// </summary>
    public Task<AdminResult> PromoteAsync(string model, int version, string actor, CancellationToken ct, bool force = false) =>
        Change(actor, force ? "promote-forced" : "promote", model, version, ct, aliases =>
        {
            var breaking = force ? aliases.With(BreakingAlias, version) : aliases.Without(BreakingAlias);
            if (aliases.Production == version) return (force ? breaking : aliases, null);
            var updated = breaking.With(ModelAliases.ProductionAlias, version).Without(UndeployedAlias);
            if (aliases.Production is { } old) updated = updated.With(PreviousAlias, old);
            if (aliases.Canary?.Version == version) updated = updated.Without(ModelAliases.CanaryAlias);
            return (updated, null);
        }, production => _gate.CheckAsync(model, version, production, allowBreaking: force, ct));

    /// <summary>
    /// Sets the canary to <paramref name="version"/> with a weight in (0, 1]; weight 0 clears it. A canary
    /// serves beside production, so it must have production's inputs and outputs (there is no force).
    /// </summary>
    public Task<AdminResult> SetCanaryAsync(string model, int version, double weight, string actor, CancellationToken ct)
    {
        if (weight is < 0 or > 1 || double.IsNaN(weight))
            return Audited(actor, "canary", model, version, new AdminResult.Invalid($"The canary weight must be between 0 and 1 (got {weight})."));
        return Change(actor, weight == 0 ? "canary-clear" : "canary", model, weight == 0 ? null : version, ct, aliases =>
        {
            if (weight == 0) return (aliases.Without(ModelAliases.CanaryAlias), null);
            if (aliases.Production == version) return (aliases, $"Version {version} is already production; a canary must be another version.");
            return (aliases.With(ModelAliases.CanaryAlias, version, weight), null);
        }, weight == 0 ? null : production => _gate.CheckAsync(model, version, production, allowBreaking: false, ct));
    }

    /// <summary>Production goes back to <c>previous</c> (and the rolled-back version becomes <c>previous</c>); the canary is cleared.</summary>
    public async Task<AdminResult> RollbackAsync(string model, string actor, CancellationToken ct)
    {
        var result = await Change(actor, "rollback", model, null, ct, aliases =>
        {
            if (aliases.Resolve(PreviousAlias) is not { } previous) return (aliases, $"Model '{model}' has no previous version to roll back to.");
            // Going back to the version that served before restores its contract, so the
            // compatibility check against the current one does not apply.
            var updated = aliases.With(ModelAliases.ProductionAlias, previous).Without(ModelAliases.CanaryAlias).With(BreakingAlias, previous);
            updated = aliases.Production is { } current ? updated.With(PreviousAlias, current) : updated.Without(PreviousAlias);
            return (updated, null);
        }).ConfigureAwait(false);
        if (result is AdminResult.Done { Changed: true }) metrics?.CountRollback(model, "operator");
        return result;
    }

    /// <summary>Stops serving: production moves to <c>undeployed</c>, so the replicas stop.</summary>
    public Task<AdminResult> UndeployAsync(string model, string actor, CancellationToken ct) =>
        Change(actor, "undeploy", model, null, ct, aliases =>
            aliases.Production is { } version
                ? (aliases.Without(ModelAliases.ProductionAlias).Without(ModelAliases.CanaryAlias).With(UndeployedAlias, version), null)
                : (aliases, null));

    /// <summary>Serves again the version that was production when the model was undeployed.</summary>
    public Task<AdminResult> DeployAsync(string model, string actor, CancellationToken ct) =>
        Change(actor, "deploy", model, null, ct, aliases =>
        {
            if (aliases.Production is not null) return (aliases, null);
            return aliases.Resolve(UndeployedAlias) is { } version
                ? (aliases.With(ModelAliases.ProductionAlias, version).Without(UndeployedAlias), null)
                : (aliases, $"Model '{model}' has no version to deploy; promote one.");
        });

    /// <summary>
    /// Pins the model (the <see cref="PinnedAlias"/> alias), so the nodes' model caches never evict it,
    /// or with <paramref name="pinned"/> false unpins it. A model needs a production version to be pinned.
    /// </summary>
    public Task<AdminResult> PinAsync(string model, bool pinned, string actor, CancellationToken ct) =>
        Change(actor, pinned ? "pin" : "unpin", model, null, ct, aliases =>
        {
            if (!pinned) return (aliases.Without(PinnedAlias), null);
            if (aliases.Resolve(PinnedAlias) is not null) return (aliases, null);
            return aliases.Production is { } production
                ? (aliases.With(PinnedAlias, production), null)
                : (aliases, $"Model '{model}' has no production version to pin; promote one first.");
        });

    /// <summary>
    /// Sets how many replicas of the model the cluster runs, or with null goes back to the default
    /// (one per node). Kept in the registry, so every node's replica keeper applies it.
    /// </summary>
    public Task<AdminResult> ScaleAsync(string model, int? replicas, string actor, CancellationToken ct) =>
        ScaleAsync(model, replicas, null, null, actor, ct);

    /// <summary>
    /// Sets the model's scale: a fixed count (<paramref name="replicas"/>), autoscaling between
    /// <paramref name="min"/> and <paramref name="max"/> (starting from <paramref name="replicas"/>, else
    /// the current count clamped into the range), or with nothing given one replica per node.
    /// </summary>
    public async Task<AdminResult> ScaleAsync(string model, int? replicas, int? min, int? max, string actor, CancellationToken ct)
    {
        const string action = "scale";
        if (ModelName.ExistingProblem(model) is { } badName)
            return await Audited(actor, action, model, null, new AdminResult.Invalid(badName, AdminErrorCodes.InvalidModelName)).ConfigureAwait(false);
        if ((await registry.ListVersionsAsync(model, ct).ConfigureAwait(false)).Count == 0)
            return await Audited(actor, action, model, null, new AdminResult.NotFound($"Model '{model}' is not in the registry.")).ConfigureAwait(false);
        var current = await registry.GetScaleAsync(model, ct).ConfigureAwait(false);
        ModelScale? wanted;
        if (min is not null || max is not null)
        {
            if (min is not { } low || max is not { } high)
                return await Audited(actor, action, model, null, new AdminResult.Invalid($"Model '{model}': give both min and max.", AdminErrorCodes.InvalidScale))
                    .ConfigureAwait(false);
            // Without a count, keep today's count where the range allows (a range that is not one is refused below).
            var start = replicas ?? (low <= high ? Math.Clamp(current?.Replicas ?? low, low, high) : low);
            wanted = new ModelScale(start) { Min = low, Max = high };
        }
        else
        {
            wanted = replicas is { } n ? new ModelScale(n) : null;
        }
        if (wanted?.Problem() is { } problem)
            return await Audited(actor, action, model, null, new AdminResult.Invalid($"Model '{model}': {problem}.", AdminErrorCodes.InvalidScale))
                .ConfigureAwait(false);
        var changed = wanted is null ? current is not null : !wanted.SameSetting(current);
        if (changed) await registry.SetScaleAsync(model, wanted, ct).ConfigureAwait(false);
        return await Audited(actor, action, model, null, new AdminResult.Scaled(model, changed ? wanted : current, changed), Describe(wanted))
            .ConfigureAwait(false);
    }

    /// <summary>
    /// The autoscaler's step: the replica count of an autoscaled model moves to <paramref name="replicas"/>
    /// (kept within its min and max), recorded as its last decision and audited as <c>autoscale</c> by
    /// <c>autoscaler</c>. Nothing happens when the model is not autoscaled (any more) or already there.
    /// </summary>
    public async Task<AdminResult> AutoscaleAsync(string model, int replicas, string reason, CancellationToken ct)
    {
        if (!ModelName.IsValidExisting(model)) return new AdminResult.Scaled(model, null, false);
        var current = await registry.GetScaleAsync(model, ct).ConfigureAwait(false);
        if (current is not { Autoscaled: true, Min: { } min, Max: { } max }) return new AdminResult.Scaled(model, current, false);
        var to = Math.Clamp(replicas, min, max);
        if (to == current.Replicas) return new AdminResult.Scaled(model, current, false);
        var updated = current with { Replicas = to, LastDecision = new ScaleDecision(_clock.GetUtcNow(), current.Replicas, to, reason) };
        await registry.SetScaleAsync(model, updated, ct).ConfigureAwait(false);
        return await Audited("autoscaler", "autoscale", model, null, new AdminResult.Scaled(model, updated, true),
            $"replicas {current.Replicas} -> {to}: {reason}").ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the reference sample of <paramref name="version"/> (a baseline taken from served
    /// traffic), audited as <c>reference-baseline</c> with <paramref name="origin"/> (where the sample
    /// came from). The model's drift job judges the version's next windows against it.
    /// </summary>
    public async Task<AdminResult> SetReferenceAsync(string model, int version, ReferenceSample sample, string origin, string actor, CancellationToken ct)
    {
        const string action = "reference-baseline";
        var versions = await registry.ListVersionsAsync(model, ct).ConfigureAwait(false);
        if (!versions.Contains(version))
            return await Audited(actor, action, model, version, new AdminResult.NotFound(versions.Count == 0
                ? $"Model '{model}' is not in the registry." : $"Model '{model}' has no version {version}.")).ConfigureAwait(false);
        try
        {
            await registry.SetReferenceSampleAsync(model, version, sample, ct).ConfigureAwait(false);
        }
        catch (ModelRegistryException e) when (e.Error is ModelRegistryError.Invalid or ModelRegistryError.NotFound)
        {
            return await Audited(actor, action, model, version, new AdminResult.Invalid(e.Message, AdminErrorCodes.InvalidReference)).ConfigureAwait(false);
        }

        var aliases = await registry.GetAliasesAsync(model, ct).ConfigureAwait(false);
        return await Audited(actor, action, model, version, new AdminResult.Done(model, aliases, true, version),
            $"{sample.Rows} rows of {sample.Features.Length} features from {origin}").ConfigureAwait(false);
    }

    private static string Describe(ModelScale? scale) => scale switch
    {
        null => "replicas: one per node",
        { Autoscaled: true } => $"replicas: autoscaled from {scale.Min} to {scale.Max}, now {scale.Replicas}",
        _ => $"replicas: {scale.Replicas}",
    };

    public IReadOnlyList<AuditEvent> Audit(int limit) => audit.Recent(limit);

    /// <param name="verify">
    /// Checks the version against the production version it joins or replaces, before any alias
    /// moves. The alias update then goes ahead only if production is still the version checked
    /// against (compare-and-set), so a concurrent promotion cannot slip in an unchecked pairing.
    /// </param>
    private async Task<AdminResult> Change(string actor, string action, string model, int? version, CancellationToken ct,
        Func<ModelAliases, (ModelAliases Updated, string? Conflict)> change, Func<int?, Task<AdminResult.Conflict?>>? verify = null)
    {
        // One rule for every backend, before any lookup: a name that could leave the registry folder is a 400, never a registry error.
        if (ModelName.ExistingProblem(model) is { } badName)
            return await Audited(actor, action, model, version, new AdminResult.Invalid(badName, AdminErrorCodes.InvalidModelName)).ConfigureAwait(false);
        var versions = await registry.ListVersionsAsync(model, ct).ConfigureAwait(false);
        if (versions.Count == 0)
            return await Audited(actor, action, model, version, new AdminResult.NotFound($"Model '{model}' is not in the registry.")).ConfigureAwait(false);
        if (version is { } v && !versions.Contains(v))
            return await Audited(actor, action, model, version,
                new AdminResult.NotFound($"Model '{model}' has no version {v} (versions: {string.Join(", ", versions)}).")).ConfigureAwait(false);

        int? checkedAgainst = null;
        if (verify is not null)
        {
            checkedAgainst = (await registry.GetAliasesAsync(model, ct).ConfigureAwait(false)).Production;
            if (await verify(checkedAgainst).ConfigureAwait(false) is { } refused)
                return await Audited(actor, action, model, version, refused).ConfigureAwait(false);
        }

        AdminResult.Conflict? conflict = null;
        ModelAliases? before = null;
        var after = await registry.UpdateAliasesAsync(model, current =>
        {
            before = current;
            if (verify is not null && current.Production != checkedAgainst)
            {
                conflict = new AdminResult.Conflict(
                    $"The production version of '{model}' changed from {checkedAgainst} to {current.Production} while version {version} was being checked; try again.");
                return current;
            }
            var (updated, refusal) = change(current);
            if (refusal is null) return updated;
            conflict = new AdminResult.Conflict(refusal);
            return current;
        }, ct).ConfigureAwait(false);
        AdminResult result = conflict ?? (AdminResult)new AdminResult.Done(model, after, !SameAliases(before!, after), version ?? after.Production);
        return await Audited(actor, action, model, version, result, conflict is null ? after.ToString() : null).ConfigureAwait(false);
    }

    private static bool SameAliases(ModelAliases a, ModelAliases b) =>
        a.Entries.Count == b.Entries.Count && a.Entries.All(e => b.Entries.TryGetValue(e.Key, out var other) && other == e.Value);

    private async Task<AdminResult> Audited(string actor, string action, string model, int? version, AdminResult result, string? detail = null)
    {
        var (outcome, message) = result switch
        {
            AdminResult.Done done => (done.Changed ? "ok" : "unchanged", detail),
            AdminResult.Scaled scaled => (scaled.Changed ? "ok" : "unchanged", detail),
            AdminResult.NotFound n => ("not_found", n.Message),
            AdminResult.Conflict c => ("conflict", c.Message),
            AdminResult.Invalid i => ("invalid", i.Message),
            _ => ("unknown", detail),
        };
        await audit.WriteAsync(new AuditEvent(Guid.NewGuid().ToString("N"), _clock.GetUtcNow(), actor, action, model, version, outcome, message))
            .ConfigureAwait(false);
        return result;
    }
}
