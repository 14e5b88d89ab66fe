using Akka.Actor;
using Akka.Event;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// Runs one <see cref="DriftMonitor"/> per model that <paramref name="models"/> names, and keeps it
/// so: every <see cref="RefreshInterval"/> it asks again, starts a job for a model that appeared,
/// stops the job of one that went, and starts again a job that stopped. In a cluster it runs as a
/// cluster singleton, so every model's job runs exactly once in the cluster (on the oldest node;
/// when that node leaves, its jobs drain and commit, then start on the next); standalone, as a
/// plain actor. <see cref="StopDrift"/> drains every job, then stops it: the singleton's hand-over message.
/// </summary>
public sealed class DriftJobs : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private sealed record Refresh;
    private sealed record ModelsRead(IReadOnlyCollection<string> Models);
    private sealed record ModelsFailed(Exception Cause);

    private readonly Func<CancellationToken, Task<IReadOnlyCollection<string>>> _models;
    private readonly DriftContext _context;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> _jobs = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _stopping = [];

    /// <param name="models">The models to watch: those with a production version, or a fixed list.</param>
    /// <param name="context">What each job is built from.</param>
    public DriftJobs(Func<CancellationToken, Task<IReadOnlyCollection<string>>> models, DriftContext context)
    {
        _models = models;
        _context = context;
        Receive<Refresh>(_ => _models(CancellationToken.None).PipeTo(Self, success: m => new ModelsRead(m), failure: e => new ModelsFailed(e)));
        Receive<ModelsRead>(read => Reconcile(read.Models));
        Receive<ModelsFailed>(failed => _log.Warning("Drift jobs: could not read the models to watch ({0}); trying again in {1}", failed.Cause.Message, RefreshInterval));
        Receive<Terminated>(terminated => Forget(terminated.ActorRef));
        Receive<StopDrift>(_ => StopAll());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Func<CancellationToken, Task<IReadOnlyCollection<string>>> models, DriftContext context) =>
        Akka.Actor.Props.Create(() => new DriftJobs(models, context));

    protected override void PreStart()
    {
        Self.Tell(new Refresh());
        Timers.StartPeriodicTimer(nameof(Refresh), new Refresh(), RefreshInterval);
    }

    /// <summary>A job that fails in its constructor is stopped rather than restarted in a loop; the next refresh starts it again.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private void Reconcile(IReadOnlyCollection<string> models)
    {
        foreach (var model in models.Where(m => !_jobs.ContainsKey(m)))
        {
            // A job still draining under the same name is left to finish; the next refresh starts the new one.
            var name = Uri.EscapeDataString(model);
            if (!Context.Child(name).IsNobody()) continue;
            var job = Context.ActorOf(DriftMonitor.Props(model, _context), name);
            Context.Watch(job);
            _jobs[model] = job;
        }

        foreach (var (model, job) in _jobs.Where(j => !models.Contains(j.Key)).ToList())
        {
            _log.Info("Drift job of {0} stopping: the model is no longer watched", model);
            _jobs.Remove(model);
            _stopping.Add(job);
            job.Tell(StopDrift.Instance);
        }
    }

    private void Forget(IActorRef job)
    {
        _stopping.Remove(job);
        foreach (var (model, _) in _jobs.Where(j => j.Value.Equals(job)).ToList())
        {
            _jobs.Remove(model);
        }
    }

    private void StopAll()
    {
        Timers.CancelAll();
        _stopping.UnionWith(_jobs.Values);
        _jobs.Clear();
        if (_stopping.Count == 0)
        {
            Context.Stop(Self);
            return;
        }

        foreach (var job in _stopping) job.Tell(StopDrift.Instance);
        Become(() =>
        {
            Receive<Terminated>(terminated =>
            {
                _stopping.Remove(terminated.ActorRef);
                if (_stopping.Count == 0) Context.Stop(Self);
            });
            ReceiveAny(_ => { });
        });
    }
}
