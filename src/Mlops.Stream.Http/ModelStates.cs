using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary>Wire names of <see cref="ReplicaState"/> for JSON bodies and messages; a stable contract.</summary>
public static class ModelStates
{
    public static string ToWireName(ReplicaState state) => state switch
    {
        ReplicaState.NotServing => "not_serving",
        ReplicaState.Loading => "loading",
        ReplicaState.Ready => "ready",
        ReplicaState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown replica state"),
    };
}
