namespace Mlops.Stream.Inference.Gateway;

/// <summary>
/// Where the HTTP and gRPC edges count the requests they answer (the node's metrics implement it),
/// so an edge needs no metrics type of the serving side.
/// </summary>
public interface IRequestCounter
{
    /// <summary>Counts one request of <paramref name="model"/> by its source and outcome (label values below).</summary>
    void CountRequest(string model, int? version, string source, string outcome);
}

/// <summary>Values of the <c>source</c> label: where a request came in.</summary>
public static class RequestSources
{
    public const string Kafka = "kafka";
    public const string Http = "http";
    /// <summary>The Open Inference Protocol gRPC edge (its own port); same gateway and batchers as <see cref="Http"/>.</summary>
    public const string Grpc = "grpc";
}

/// <summary>Values of the <c>outcome</c> label of <c>mlops_requests_total</c>: what became of a request.</summary>
public static class RequestOutcomes
{
    /// <summary>Served: a prediction was produced (Kafka) or returned (HTTP 200).</summary>
    public const string Success = "success";
    /// <summary>HTTP only: the request itself is wrong (400, 404, 413). On Kafka such a request is dead-lettered.</summary>
    public const string Invalid = "invalid";
    /// <summary>Kafka only: written to the dead-letter topic (invalid, or its batch failed in the model); see <c>mlops_dead_letters_total</c>.</summary>
    public const string DeadLettered = "dead_lettered";
    /// <summary>Not run: queue full (429), model not ready or shutting down (503). Kafka requests rejected this way are redelivered.</summary>
    public const string Rejected = "rejected";
    /// <summary>HTTP only: the model run failed (500).</summary>
    public const string Failed = "failed";
    /// <summary>HTTP only: no answer within the infer timeout (504).</summary>
    public const string TimedOut = "timed_out";
    /// <summary>HTTP only: the caller went away before the answer.</summary>
    public const string Cancelled = "cancelled";
}
