namespace Mlops.Stream.Kafka.Dsl;

/// <summary>
/// Pairs a consumer control with the stream's completion so a stream can be stopped without
/// losing work: stop consuming, let in-flight elements finish and be committed, then close the
/// consumer. Materialize with <c>Keep.Both</c> and <c>MapMaterializedValue(DrainingControl&lt;T&gt;.Create)</c>.
/// </summary>
public sealed class DrainingControl<T> : IConsumerControl
{
    private readonly IConsumerControl _control;

    private DrainingControl(IConsumerControl control, Task<T> streamCompletion)
    {
        _control = control;
        StreamCompletion = streamCompletion;
    }

    public static DrainingControl<T> Create((IConsumerControl Control, Task<T> StreamCompletion) pair) =>
        new(pair.Control, pair.StreamCompletion);

    public static DrainingControl<T> Create(IConsumerControl control, Task<T> streamCompletion) => new(control, streamCompletion);

    public Task<T> StreamCompletion { get; }

    public Task Stop() => _control.Stop();

    public Task Shutdown() => _control.Shutdown();

    public Task IsShutdown => _control.IsShutdown;

    public ConsumerMetrics Metrics => _control.Metrics;

    /// <summary>
    /// Stop consuming, wait until every in-flight element has reached the sink (and, with the
    /// committer, been committed), then close the consumer. The consumer is closed even if the
    /// stream failed; the stream's failure is rethrown.
    /// </summary>
    public async Task<T> DrainAndShutdown()
    {
        await _control.Stop().ConfigureAwait(false);
        try
        {
            return await StreamCompletion.ConfigureAwait(false);
        }
        finally
        {
            await _control.Shutdown().ConfigureAwait(false);
        }
    }
}
