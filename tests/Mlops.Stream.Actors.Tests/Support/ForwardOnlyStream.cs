namespace Mlops.Stream.Actors.Tests.Support;

/// <summary>
/// A body as it comes off the network: no length and no seeking, so nothing can read ahead of what
/// arrived, and an HTTP client sends it chunked.
/// </summary>
internal sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes, writable: false)
{
    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }
}
