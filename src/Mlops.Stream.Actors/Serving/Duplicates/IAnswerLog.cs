namespace Mlops.Stream.Actors.Serving.Duplicates;

/// <summary>
/// What a new owner of a request partition asks when it starts consuming it: which records, from
/// the offset it starts at, did someone else already answer? <paramref name="NotBefore"/> is when
/// the first of them was requested (the record's timestamp): no answer to it can be older.
/// </summary>
public sealed record AnswerQuery(int Partition, long FromOffset, DateTimeOffset NotBefore, string AskerTag);

/// <summary>The offsets a query asked about that already have an answer by someone else; <see cref="Incomplete"/> says why some may be missing.</summary>
public sealed record EarlierAnswers(IReadOnlySet<long> Offsets, string? Incomplete = null);

/// <summary>Where a model's answers (predictions and dead letters) can be read back.</summary>
public interface IAnswerLog
{
    /// <summary>Answers the queries in one pass, in their order. Blocks: run it off the stream.</summary>
    IReadOnlyList<EarlierAnswers> Find(IReadOnlyList<AnswerQuery> queries, CancellationToken cancellationToken);
}
