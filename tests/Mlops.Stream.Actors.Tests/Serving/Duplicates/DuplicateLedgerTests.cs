using System.Collections.Concurrent;
using Mlops.Stream.Actors.Serving.Duplicates;

namespace Mlops.Stream.Actors.Tests.Serving.Duplicates;

/// <summary>
/// The ledger counts each record answered again exactly once, however the answers and the read of
/// the answer log interleave, and never for an assignment that has been replaced.
/// </summary>
public sealed class DuplicateLedgerTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset RequestedAt = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Answers_acknowledged_while_the_log_is_read_are_settled_once_it_has_been_read()
    {
        var log = new GatedLog();
        var counted = new ConcurrentQueue<long>();
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, counted.Enqueue, _ => { });

        ledger.Consumed(partition: 0, assignment: 1, offset: 100, RequestedAt);
        foreach (var offset in new long[] { 100, 101, 102 }) ledger.Answered(0, 1, offset);
        var query = await log.Asked.Task.WaitAsync(Guard);
        log.Reply([new EarlierAnswers(new HashSet<long> { 100, 102, 103, 104 })]);
        await ledger.Settled.WaitAsync(Guard);
        Assert.Equal(2, ledger.Counted);

        // After the read, each answer is checked at once; an offset counts only the first time.
        foreach (var offset in new long[] { 103, 103, 105 }) ledger.Answered(0, 1, offset);
        Assert.Equal(3, ledger.Counted);
        Assert.Equal(3, counted.Sum());

        Assert.Equal(new AnswerQuery(0, 100, RequestedAt, query.Single().AskerTag), query.Single());
        Assert.StartsWith("m#0/", query.Single().AskerTag, StringComparison.Ordinal);
        Assert.EndsWith("/1", query.Single().AskerTag, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_first_answer_of_an_assignment_asks_and_a_new_assignment_replaces_the_old_one()
    {
        var log = new GatedLog();
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, _ => { }, _ => { });

        ledger.Consumed(0, assignment: 1, offset: 10, RequestedAt);
        ledger.Consumed(0, assignment: 1, offset: 11, RequestedAt);
        ledger.Answered(0, assignment: 1, offset: 10);
        ledger.Answered(0, assignment: 1, offset: 11);
        Assert.Equal(10, (await log.Asked.Task.WaitAsync(Guard)).Single().FromOffset);
        log.Reply([new EarlierAnswers(new HashSet<long>())]);
        await ledger.Settled.WaitAsync(Guard);
        Assert.Equal(1, log.Questions);

        // The partition was revoked and assigned again: the new assignment asks anew, from where it starts.
        log.Reset();
        ledger.Consumed(0, assignment: 2, offset: 11, RequestedAt);
        ledger.Answered(0, assignment: 1, offset: 10);   // a late acknowledgement from the old assignment asks nothing
        Assert.True(ledger.Settled.IsCompleted);
        ledger.Answered(0, assignment: 2, offset: 11);
        var second = await log.Asked.Task.WaitAsync(Guard);
        Assert.Equal(11, second.Single().FromOffset);
        Assert.EndsWith("/2", second.Single().AskerTag, StringComparison.Ordinal);
        log.Reply([new EarlierAnswers(new HashSet<long> { 11 })]);
        await ledger.Settled.WaitAsync(Guard);
        Assert.Equal(1, ledger.Counted);
    }

    [Fact]
    public async Task The_log_is_read_only_after_the_new_assignments_first_answer_is_acknowledged_so_answers_still_in_flight_are_counted()
    {
        // Records 10 and 11 were answered under assignment 1; the answer to 11 is still on its way
        // to the broker (a slow produce) when the partition is assigned again and 10 is consumed anew.
        var log = new GrowingLog(10);
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, _ => { }, _ => { });

        ledger.Consumed(0, assignment: 2, offset: 10, RequestedAt);
        ledger.Consumed(0, assignment: 2, offset: 11, RequestedAt);
        // Had consuming asked, this would wait for that read, which cannot see the answer still in flight.
        await ledger.Settled.WaitAsync(Guard);
        Assert.Equal(0, log.Questions);

        // Acknowledgements come in send order: the new assignment's first one means the old answers have landed.
        log.Land(11);
        ledger.Answered(0, assignment: 2, offset: 10);
        ledger.Answered(0, assignment: 2, offset: 11);
        await ledger.Settled.WaitAsync(Guard);

        Assert.Equal(1, log.Questions);
        Assert.Equal(2, ledger.Counted);
    }

    [Fact]
    public async Task A_request_timestamp_ahead_of_the_clock_asks_from_now_so_answers_are_not_missed()
    {
        var log = new GatedLog();
        var clock = new FixedClock(RequestedAt);
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, _ => { }, _ => { }, clock);

        ledger.Consumed(0, 1, 0, RequestedAt.AddMinutes(10));
        ledger.Answered(0, 1, 0);
        Assert.Equal(RequestedAt, (await log.Asked.Task.WaitAsync(Guard)).Single().NotBefore);
        log.Reply([new EarlierAnswers(new HashSet<long>())]);
    }

    [Fact]
    public async Task A_log_that_cannot_be_read_is_reported_and_read_again_until_the_duplicates_are_counted()
    {
        var warnings = new ConcurrentQueue<string>();
        var log = new FlakyLog(failures: 2, answered: 0);
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, _ => { }, warnings.Enqueue, firstRetryDelay: TimeSpan.FromMilliseconds(10));

        ledger.Consumed(3, 1, 0, RequestedAt);
        ledger.Answered(3, 1, 0);
        await Eventually.HoldsAsync(() => ledger.Counted == 1, "the duplicate is counted once the log can be read", Guard);
        await ledger.Settled.WaitAsync(Guard);
        Assert.Equal(0, ledger.OpenChecks);

        Assert.Equal(3, log.Questions);
        Assert.Equal(2, warnings.Count(w => w.Contains("partition(s) 3", StringComparison.Ordinal) && w.Contains("broker gone", StringComparison.Ordinal)
                                            && w.Contains("Trying again", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_failed_read_is_not_tried_again_for_a_partition_that_has_moved_on()
    {
        var warnings = new ConcurrentQueue<string>();
        var log = new FlakyLog(failures: int.MaxValue, answered: 0);
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, _ => { }, warnings.Enqueue, firstRetryDelay: TimeSpan.FromMilliseconds(10));

        ledger.Consumed(3, 1, 0, RequestedAt);
        ledger.Answered(3, 1, 0);
        await Eventually.HoldsAsync(() => log.Questions >= 1, "the log was asked");
        ledger.Consumed(3, 2, 50, RequestedAt);   // reassigned: the first assignment's question is moot

        await ledger.Settled.WaitAsync(Guard);
        Assert.Contains(warnings, w => w.Contains("moved on", StringComparison.Ordinal));
        Assert.Equal(0, ledger.Counted);
        Assert.Equal(0, ledger.OpenChecks);
    }

    [Fact]
    public async Task An_incomplete_read_is_reported()
    {
        var log = new GatedLog();
        var warnings = new ConcurrentQueue<string>();
        using var ledger = new DuplicateLedger(new AnswerTags("m#0"), log, _ => { }, warnings.Enqueue);

        ledger.Consumed(1, 1, 5, RequestedAt);
        ledger.Answered(1, 1, 5);
        await log.Asked.Task.WaitAsync(Guard);
        Assert.Equal(1, ledger.OpenChecks);   // an operator can see that counts may still grow
        log.Reply([new EarlierAnswers(new HashSet<long> { 5 }, "too many answers")]);
        await ledger.Settled.WaitAsync(Guard);
        Assert.Equal(0, ledger.OpenChecks);

        Assert.Equal(1, ledger.Counted);
        Assert.Contains(warnings, w => w.Contains("partition 1 from offset 5", StringComparison.Ordinal) && w.Contains("too many answers", StringComparison.Ordinal));
    }

    /// <summary>An answer log whose first <c>failures</c> reads fail, then answers that <c>answered</c> was answered by someone else.</summary>
    private sealed class FlakyLog(int failures, long answered) : IAnswerLog
    {
        private int _questions;

        public int Questions => Volatile.Read(ref _questions);

        public IReadOnlyList<EarlierAnswers> Find(IReadOnlyList<AnswerQuery> queries, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _questions) <= failures) throw new InvalidOperationException("broker gone");
            return [.. queries.Select(_ => new EarlierAnswers(new HashSet<long> { answered }))];
        }
    }

    /// <summary>An answer log that holds its answer until the test gives it.</summary>
    private sealed class GatedLog : IAnswerLog
    {
        private TaskCompletionSource<IReadOnlyList<EarlierAnswers>> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<IReadOnlyList<AnswerQuery>> Asked { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Questions { get; private set; }

        public IReadOnlyList<EarlierAnswers> Find(IReadOnlyList<AnswerQuery> queries, CancellationToken cancellationToken)
        {
            Questions++;
            Asked.TrySetResult(queries);
            return _reply.Task.WaitAsync(Guard, cancellationToken).GetAwaiter().GetResult();
        }

        public void Reply(IReadOnlyList<EarlierAnswers> answers) => _reply.SetResult(answers);

        public void Reset()
        {
            Asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>An answer log holding the offsets answered by someone else so far; answers land in it while the test runs.</summary>
    private sealed class GrowingLog(params long[] answered) : IAnswerLog
    {
        private readonly ConcurrentDictionary<long, bool> _answered = new(answered.Select(o => KeyValuePair.Create(o, true)));

        public int Questions { get; private set; }

        public void Land(long offset) => _answered[offset] = true;

        public IReadOnlyList<EarlierAnswers> Find(IReadOnlyList<AnswerQuery> queries, CancellationToken cancellationToken)
        {
            Questions++;
            return [.. queries.Select(q => new EarlierAnswers(_answered.Keys.Where(o => o >= q.FromOffset).ToHashSet()))];
        }
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
