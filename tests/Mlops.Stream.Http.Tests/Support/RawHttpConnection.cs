using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>
/// One TCP connection that speaks HTTP/1.1 by hand, for what HttpClient will not do: stay idle, send
/// half a request, trickle a body. <see cref="Closed"/> completes with everything the server sent once
/// it closes the connection (empty when it closed without a word). Dispose closes it from this side.
/// </summary>
public sealed class RawHttpConnection : IAsyncDisposable
{
    private readonly Socket _socket;

    private RawHttpConnection(Socket socket)
    {
        _socket = socket;
        Closed = ReadUntilClosedAsync();
    }

    /// <summary>What the server sent, completed when the server closed the connection (or reset it).</summary>
    public Task<string> Closed { get; }

    public static async Task<RawHttpConnection> OpenAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            return new RawHttpConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task SendAsync(string text) => await _socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> ReadUntilClosedAsync()
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await _socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // A reset, or this side closing it: either way the connection is over.
        }
        return received.ToString();
    }
}
