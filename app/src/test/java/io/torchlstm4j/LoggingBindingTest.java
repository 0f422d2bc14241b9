package io.torchlstm4j;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** DL4J brings slf4j-api 1.7; with logback 1.5 that would silently bind the NOP logger. The root pom pins 2.x. */
class LoggingBindingTest {

    @Test
    void slf4jBindsToLogbackNotNop() {
        assertEquals("ch.qos.logback.classic.LoggerContext", LoggerFactory.getILoggerFactory().getClass().getName());
    }
}
