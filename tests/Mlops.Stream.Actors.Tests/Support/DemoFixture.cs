using Mlops.Stream.Demo;

namespace Mlops.Stream.Actors.Tests.Support;

/// <summary>
/// The demo model trained once per test run (about a second) and shared read-only by every test
/// that needs a real ONNX model; tests never mutate it.
/// </summary>
public static class DemoFixture
{
    private static readonly Lazy<DemoModel> Lazy = new(() => DemoModelBuilder.Build(), LazyThreadSafetyMode.ExecutionAndPublication);

    public static DemoModel Model => Lazy.Value;
}
