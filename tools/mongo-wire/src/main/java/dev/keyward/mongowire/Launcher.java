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
 * when stdin closes (the parent process went away) or on SIGTERM. When another process holds
 * the H2 file it prints {@code LOCKED <file>} and exits with code 75.
 */
public final class Launcher {
    private Launcher() {}

    /** Exit code when the H2 file is locked by another process. */
    static final int EXIT_LOCKED = 75;

    /**
     * Opens the H2 file, or, when another process holds it, prints one line
     * {@code LOCKED <file>} and exits with {@link #EXIT_LOCKED} instead of a stack trace.
     */
    private static MongoBackend openH2(String file) {
        try {
            return new H2Backend(file);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                String message = t.getMessage();
                if (message != null && message.contains("is locked")) {
                    System.out.println("LOCKED " + file);
                    System.out.flush();
                    System.exit(EXIT_LOCKED);
                }
            }
            throw e;
        }
    }

    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        MongoBackend backend = args.length > 1 ? openH2(args[1]) : new MemoryBackend();
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
