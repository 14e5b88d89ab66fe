using System.Diagnostics;

namespace Mlops.Stream.Cli.Load;

/// <summary>What one <c>mlops load</c> run asks for.</summary>
internal sealed record LoadSettings(string Model, double Rate, TimeSpan Duration, double Drift, int Seed, TimeSpan Grace)
{
    public long Requests => (long)Math.Round(Rate * Duration.TotalSeconds);
}

/// <summary>
/// One load run end to end: build requests from the model's metadata and reference profile, follow
/// the predictions topic from its end, send at the asked rate (<see cref="OpenLoopSender"/>), then
/// wait at most the grace period for the predictions still owed, and report.
/// </summary>
internal static class LoadRun
{
    public static async Task<LoadReport> RunAsync(AdminClient client, LoadSettings settings, CancellationToken ct)
    {
        var requests = await RequestFactory.CreateAsync(client, settings.Model, settings.Seed, settings.Drift, ct);
        // Unique per run, so predictions of other producers or earlier runs are never counted as ours.
        var idPrefix = $"load-{Guid.NewGuid().ToString("N")[..8]}-";
        var clock = new Stopwatch();
        var tracker = new LoadTracker(idPrefix, () => clock.Elapsed);

        // The node fixes the tail's position before it answers, so once this returns no prediction of
        // the requests below can be missed.
        using var predictions = await client.OpenStreamAsync(
            $"api/v1/models/{AdminClient.Segment(settings.Model)}/tail/predictions?from=end", ct);
        using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var following = FollowAsync(predictions, tracker, stopFollowing.Token);

        clock.Start();
        var lastDispatch = await new OpenLoopSender(client, settings.Model, requests, tracker, idPrefix)
            .RunAsync(settings.Rate, settings.Requests, clock, ct);
        tracker.SendingFinished();
        try
        {
            await Task.WhenAny(tracker.AllAnswered, following).WaitAsync(settings.Grace, ct);
        }
        catch (TimeoutException)
        {
            // The grace period is over: what has not arrived is reported missing.
        }
        await stopFollowing.CancelAsync();
        await EndedAsync(following, stopFollowing.Token);

        if (tracker.Sent == 0 && tracker.FirstError is { } error)
            throw new CliException(error.ExitCode, $"no request was written: {error.Message}");
        var sendPhase = lastDispatch > settings.Duration ? lastDispatch : settings.Duration;
        var (kafka, clientSide) = tracker.Latencies();
        return new LoadReport(settings.Model, settings.Rate, settings.Duration.TotalSeconds, settings.Drift, settings.Seed, requests.Features,
            tracker.Sent, tracker.Failed, tracker.FirstError?.Message, tracker.Sent / sendPhase.TotalSeconds,
            tracker.Predicted, tracker.Missing, tracker.Duplicates, kafka, clientSide);
    }

    private static async Task FollowAsync(NdjsonStream predictions, LoadTracker tracker, CancellationToken ct)
    {
        await foreach (var line in predictions.ReadLinesAsync(ct))
        {
            var record = TailRecordFormatter.Parse(line);
            if (record.IsError) throw new CliException(ExitCodes.Unavailable, $"the predictions tail ended: {record.Error} ({record.Code})");
            var id = record.Headers.GetValueOrDefault(KafkaHeaders.RequestId)
                ?? (record.Value is { ValueKind: System.Text.Json.JsonValueKind.Object } value && value.TryGetProperty("id", out var inValue) ? inValue.GetString() : null);
            if (id is not null) tracker.PredictionArrived(id, record.Timestamp);
        }
        throw new CliException(ExitCodes.Unavailable, "the node ended the predictions tail (is it stopping?)");
    }

    /// <summary>Waits for the follower to stop; its failure (not the cancellation that stopped it) fails the run.</summary>
    private static async Task EndedAsync(Task following, CancellationToken stopped)
    {
        try
        {
            await following;
        }
        catch (OperationCanceledException) when (stopped.IsCancellationRequested)
        {
        }
    }
}
