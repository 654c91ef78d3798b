// Starts DynamoDB Local bound to one interface (127.0.0.1 by default).
//
// DynamoDB Local's CLI has no bind-address flag: its DynamoDBProxyServer builds a
// Jetty Server(port), which listens on every interface. This launcher builds the
// same server through DynamoDB Local's own entry point (ServerRunner), then sets
// host and port on Jetty's connector before it starts. Port 0 lets the kernel pick
// a free port, so there is no race between choosing a port and binding it.
//
// It also exits when its stdin closes: the Node parent holds the other end, so a
// parent that dies without cleaning up (SIGKILL, crash) never leaves a Java
// process behind holding memory and a port.
import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    private LoopbackDynamoDBLocal() {}

    public static void main(String[] args) throws Exception {
        String host = System.getProperty("local.bind.host", "127.0.0.1");
        int port = Integer.parseInt(System.getProperty("local.bind.port", "0"));

        // The CLI rejects port 0, so it gets a placeholder; the connector gets the real one.
        String[] cliArgs = new String[args.length + 2];
        System.arraycopy(args, 0, cliArgs, 0, args.length);
        cliArgs[args.length] = "-port";
        cliArgs[args.length + 1] = "8000";

        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(cliArgs);
        Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
        serverField.setAccessible(true);
        Server jetty = (Server) serverField.get(proxy);

        ServerConnector bound = null;
        for (Connector connector : jetty.getConnectors()) {
            if (connector instanceof ServerConnector) {
                bound = (ServerConnector) connector;
                bound.setHost(host);
                bound.setPort(port);
            }
        }
        if (bound == null || jetty.getConnectors().length != 1) {
            // Never fall back to listening everywhere silently.
            System.err.println("LoopbackDynamoDBLocal: unexpected Jetty connectors, refusing to start");
            System.exit(3);
        }

        watchParent();
        // proxy.start() swallows bind errors (it prints them and stops Jetty), so check the state.
        proxy.start();
        if (!jetty.isStarted() || bound.getLocalPort() <= 0) {
            System.err.println("LoopbackDynamoDBLocal: could not bind " + host + ":" + port);
            System.exit(2);
        }
        System.out.println("LOOPBACK_DYNAMODB_LOCAL_LISTENING " + host + " " + bound.getLocalPort());
        System.out.flush();
        proxy.join();
    }

    private static void watchParent() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // Input is ignored; only end-of-stream matters.
                }
            } catch (Exception ignored) {
                // A broken pipe means the same as end-of-stream.
            }
            // In-memory only: nothing to flush, so exit at once.
            System.exit(0);
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
