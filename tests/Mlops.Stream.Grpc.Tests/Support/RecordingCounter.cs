using System.Collections.Concurrent;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Grpc.Tests.Support;

/// <summary>One request as an edge counted it.</summary>
public sealed record CountedRequest(string Model, int? Version, string Source, string Outcome);

/// <summary>The request counter of the node, recording what the edges count.</summary>
public sealed class RecordingCounter : IRequestCounter
{
    private readonly ConcurrentQueue<CountedRequest> _counted = new();

    public IReadOnlyCollection<CountedRequest> Counted => _counted;

    public void CountRequest(string model, int? version, string source, string outcome) =>
        _counted.Enqueue(new CountedRequest(model, version, source, outcome));
}
