using System.Net;
using System.Net.Sockets;

namespace Mlops.Stream.Kafka.Embedded;

/// <summary>
/// Accepts connections on a fixed loopback port and relays each one, both ways, to another
/// endpoint. The embedded broker listens on a port librdkafka picks; this gives it a port clients
/// can be told in advance. Kafka clients only bootstrap through it: the metadata they get names
/// the broker's own address, which they then reach directly (both on loopback).
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly DnsEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private TcpForwarder(TcpListener listener, DnsEndPoint target)
    {
        _listener = listener;
        _target = target;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The loopback port connections are accepted on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <exception cref="SocketException">The port cannot be bound (in use, not allowed).</exception>
    public static TcpForwarder Start(int port, string targetHost, int targetPort)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        return new TcpForwarder(listener, new DnsEndPoint(targetHost, targetPort));
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(_target.Host, _target.Port, _stop.Token).ConfigureAwait(false);
                var inbound = client.GetStream();
                var outbound = upstream.GetStream();
                // When either side closes, the relay ends and both connections are closed.
                await Task.WhenAny(inbound.CopyToAsync(outbound, _stop.Token), outbound.CopyToAsync(inbound, _stop.Token)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A client or the broker went away: nothing to do but close the other side.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }
}
