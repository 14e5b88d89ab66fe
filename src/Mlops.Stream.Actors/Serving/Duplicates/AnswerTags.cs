using System.Collections.Concurrent;

namespace Mlops.Stream.Actors.Serving.Duplicates;

/// <summary>
/// Names who answered a request record: the replica, this run of its Kafka stream, and the
/// assignment of the partition the record was consumed under
/// (<c>fraud-demo#1/5f2a9c01/3</c>). An answer written under the current assignment is this
/// stream's own; any other answer to the same record — from another node, an earlier run of this
/// replica, or an earlier assignment of the same partition here — makes the next one a duplicate.
/// </summary>
public sealed class AnswerTags(string replica)
{
    private readonly string _prefix = $"{replica}/{Guid.NewGuid().ToString("N")[..8]}";
    // Written on every answer: made once per assignment (a handful per stream run), not per record.
    private readonly ConcurrentDictionary<long, string> _tags = new();

    public string For(long assignment) => _tags.GetOrAdd(assignment, a => $"{_prefix}/{a}");
}
