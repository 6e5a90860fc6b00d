package dev.keyward.mongowire;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;

/**
 * Starts mongo-java-server on 127.0.0.1.
 *
 * <p>Usage: {@code Launcher <port> [h2-file]}. Port 0 picks a free port. With an H2 file the
 * data lives on disk and survives a restart; without one it is in memory. Prints one line
 * {@code READY <port>} on stdout once the server accepts connections, and shuts down cleanly
 * when stdin closes (the parent process went away) or on SIGTERM.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        MongoBackend backend = args.length > 1 ? new H2Backend(args[1]) : new MemoryBackend();
        MongoServer server = new MongoServer(backend);
        server.bind(new InetSocketAddress("127.0.0.1", port));
        InetSocketAddress address = server.getLocalAddress();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            if (backend instanceof H2Backend h2) {
                h2.commit();
            }
        }));
        System.out.println("READY " + address.getPort());
        System.out.flush();
        // Block until the parent closes our stdin; reading -1 means it is gone.
        InputStream in = System.in;
        while (in.read() != -1) {
            // ignore input
        }
        System.exit(0);
    }
}
